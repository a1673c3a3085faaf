import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  DescribeScalingActivitiesCommand,
  DescribeScheduledActionsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeListenersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { statusCommand } from '../../lib/cli/status';
import { UserError } from '../../lib/errors';
import { createClients } from '../../lib/aws/clients';
import { bakeRecord, progressRecord, smokeRecord, trafficRecord } from '../helpers/progress';

const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web/0123456789abcdef';

const group = (name: string, release: string, desired: number, instances: Array<[string, string]>, targetGroup = TG) => ({
  AutoScalingGroupName: name,
  MinSize: 1,
  MaxSize: 4,
  DesiredCapacity: desired,
  DefaultCooldown: 300,
  AvailabilityZones: ['eu-west-1a'],
  HealthCheckType: 'ELB',
  CreatedTime: new Date(0),
  TargetGroupARNs: [targetGroup],
  Tags: [{ Key: 'greenlight:release', Value: release }],
  Instances: instances.map(([id, state]) => ({
    InstanceId: id,
    LifecycleState: state as 'InService',
    HealthStatus: 'Healthy',
    AvailabilityZone: 'eu-west-1a',
    ProtectedFromScaleIn: false,
  })),
});

const R2 = 'shop-staging-Fleet-r2';
const ALB_TG = 'app/shop-staging/50dc6c495c0c9188/targetgroup/r2-web/73e2d6bc24d8a067';

beforeEach(() => {
  asg.reset();
  elb.reset();
  ssm.reset();
  asg.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [] });
  asg.on(DescribeScheduledActionsCommand).resolves({ ScheduledUpdateGroupActions: [] });
  asg.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
  // No load balancer unless a test gives one.
  elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
});

describe('greenlight status', () => {
  it('shows the live release, both fleets and each target, across result pages', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'r1' } });
    asg
      .on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({ AutoScalingGroups: [group('shop-staging-Fleet-r1', 'r1', 2, [['i-a', 'InService'], ['i-b', 'InService']])], NextToken: 'p2' })
      .resolvesOnce({ AutoScalingGroups: [group('shop-staging-Fleet-r2', 'r2', 2, [['i-c', 'InService'], ['i-d', 'Pending']])] });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: 'i-a' }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: 'i-b' }, TargetHealth: { State: 'healthy' } },
        { Target: { Id: 'i-c' }, TargetHealth: { State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [301]' } },
        { Target: { Id: 'i-other' }, TargetHealth: { State: 'healthy' } },
      ],
    });
    // r2 has policies on two pages, a scheduled action and a scale-out; r1 has neither.
    asg
      .on(DescribePoliciesCommand, { AutoScalingGroupName: R2 })
      .resolvesOnce({
        ScalingPolicies: [
          {
            PolicyName: 'cpu',
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: 60 },
          },
        ],
        NextToken: 'p2',
      })
      .resolvesOnce({
        ScalingPolicies: [
          {
            PolicyName: 'requests',
            PolicyType: 'TargetTrackingScaling',
            TargetTrackingConfiguration: {
              PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: ALB_TG },
              TargetValue: 1200,
              DisableScaleIn: true,
            },
          },
        ],
      });
    asg.on(DescribeScheduledActionsCommand, { AutoScalingGroupName: R2 }).resolves({
      ScheduledUpdateGroupActions: [{ ScheduledActionName: 'weekday-morning', Recurrence: '30 6 * * MON-FRI', TimeZone: 'Europe/London', MinSize: 4 }],
    });
    asg.on(DescribeScalingActivitiesCommand, { AutoScalingGroupName: R2, MaxRecords: 1 }).resolves({
      Activities: [
        {
          ActivityId: 'a1',
          AutoScalingGroupName: R2,
          StatusCode: 'Successful',
          StartTime: new Date('2026-11-25T09:00:12Z'),
          Description: 'Launching a new EC2 instance: i-d',
          Cause:
            'At 2026-11-25T09:00:00Z a monitor alarm TargetTracking-cpu-AlarmHigh in state ALARM triggered policy cpu changing the desired capacity from 1 to 2.',
        },
      ],
    });
    const out = await statusCommand({ env: 'staging' }, '.', createClients('eu-west-1'));
    expect(out).toBe(
      [
        'greenlight-demo-staging: live release r1',
        'serving listener forwards to no target group (no release is live yet)',
        '',
        'RELEASE  GATE         SMOKE        TRAFFIC      CUTOVER      BAKE',
        'r1       not started  not started  not started  not started  not started',
        'r2       not started  not started  not started  not started  not started',
        '',
        'GROUP                  RELEASE  LIVE  MIN  DESIRED  MAX  IN SERVICE',
        'shop-staging-Fleet-r1  r1       yes   1    2        4    2/2',
        'shop-staging-Fleet-r2  r2             1    2        4    1/2',
        '',
        'GROUP                  SCALING',
        'shop-staging-Fleet-r1  none',
        'shop-staging-Fleet-r2  target tracking: average CPU 60%',
        'shop-staging-Fleet-r2  target tracking: requests per target per minute 1200 on r2-web; no scale-in',
        'shop-staging-Fleet-r2  scheduled weekday-morning: 30 6 * * MON-FRI Europe/London, min 4',
        '',
        'GROUP                  LAST SCALING ACTIVITY',
        'shop-staging-Fleet-r1  none recorded',
        'shop-staging-Fleet-r2  2026-11-25 09:00:12Z Successful: Launching a new EC2 instance: i-d (desired 1 → 2)',
        '',
        'INSTANCE  RELEASE  LIFECYCLE  ASG HEALTH  TARGET GROUP  TARGET STATE    REASON',
        'i-a       r1       InService  Healthy     web           healthy',
        'i-b       r1       InService  Healthy     web           healthy',
        'i-c       r2       InService  Healthy     web           unhealthy       Target.ResponseCodeMismatch [301]',
        'i-d       r2       Pending    Healthy     -             not registered',
      ].join('\n'),
    );
    expect(asg.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(2);
    expect(asg.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'tag:aws:cloudformation:stack-name', Values: ['greenlight-demo-staging'] },
    ]);
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(1);
    // The paginator reuses one input object, so only the group names can be compared per call.
    expect(asg.commandCalls(DescribePoliciesCommand).map((c) => c.args[0].input.AutoScalingGroupName)).toEqual(['shop-staging-Fleet-r1', R2, R2]);
  });

  it('shows the standby, its capacity and when it scales to zero', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'r2' } });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        group('shop-staging-Fleet-r1', 'r1', 2, [['i-a', 'InService'], ['i-b', 'InService']]),
        group(R2, 'r2', 2, [['i-c', 'InService'], ['i-d', 'InService']]),
      ],
    });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    asg.on(DescribeScheduledActionsCommand, { AutoScalingGroupName: 'shop-staging-Fleet-r1' }).resolves({
      ScheduledUpdateGroupActions: [{ ScheduledActionName: 'StandbyScaleToZero', StartTime: new Date('2026-11-25T11:00:00Z'), MinSize: 0, DesiredCapacity: 0 }],
    });
    const at = (iso: string) => statusCommand({ env: 'staging' }, '.', createClients('eu-west-1'), new Date(iso));
    const within = (await at('2026-11-25T10:17:30Z')).split('\n');
    expect(within[1]).toBe('standby: r1 in shop-staging-Fleet-r1, 2/2 in service (desired 2); scales to zero at 2026-11-25T11:00:00Z, in 43 min');
    expect(within).toContain('shop-staging-Fleet-r1  r1       standby  1    2        4    2/2');
    expect(within).toContain('shop-staging-Fleet-r1  scheduled StandbyScaleToZero: 2026-11-25T11:00:00.000Z, min 0, desired 0');
    const after = (await at('2026-11-25T11:00:00Z')).split('\n');
    expect(after[1]).toBe(
      'standby: r1 in shop-staging-Fleet-r1, 2/2 in service (desired 2); scaled to zero at 2026-11-25T11:00:00Z; a rollback scales it up first',
    );
  });

  it("shows the target group the serving listener forwards to and each release's phases, with the bake's live figures", async () => {
    const LB = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/shop-staging/50dc6c495c0c9188';
    const TG1 = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/shop-r1/1111111111111111';
    const TG2 = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/shop-r2/2222222222222222';
    const records: Record<string, unknown> = {
      '/greenlight/greenlight-demo/staging/live-release': 'r1',
      // r1's deploy found that its migrations break r0: the line says a rollback is refused.
      '/greenlight/greenlight-demo/staging/schema-record': {
        release: 'r1',
        previous: 'r0',
        rollbackSafe: false,
        reason: 'shop.0007_remove_item_price RemoveField: drops Item.price (column price): the live release still reads and writes it (acknowledged: unused)',
      },
      '/greenlight/greenlight-demo/staging/gate/r1': progressRecord('r1', { verdict: 'pass', lastMessage: '2/2 healthy' }),
      '/greenlight/greenlight-demo/staging/smoke/r1': smokeRecord('r1', 'pass', 'smoke: 2 paths answered as expected'),
      '/greenlight/greenlight-demo/staging/bake/r1': bakeRecord('r1', { verdict: 'pass', lastMessage: 'bake: passed after 780s' }),
      '/greenlight/greenlight-demo/staging/gate/r2': progressRecord('r2', { verdict: 'pass', lastMessage: '2/2 healthy' }),
      '/greenlight/greenlight-demo/staging/smoke/r2': smokeRecord('r2', 'pass', 'smoke: 2 paths answered as expected'),
      '/greenlight/greenlight-demo/staging/bake/r2': bakeRecord('r2', {
        verdict: 'wait',
        lastMessage: 'bake 240s/780s: 5210 requests, 3 5xx (0.06%, limit 1%), 2 healthy and 0 unhealthy hosts',
      }),
    };
    ssm.on(GetParameterCommand).callsFake(({ Name }: { Name: string }) => {
      const value = records[Name];
      if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      return { Parameter: { Value: typeof value === 'string' ? value : JSON.stringify(value) } };
    });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [group('shop-staging-Fleet-r1', 'r1', 2, [], TG1), group('shop-staging-Fleet-r2', 'r2', 2, [], TG2)],
    });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    elb.on(DescribeTargetGroupsCommand, { TargetGroupArns: [TG1, TG2] }).resolves({
      TargetGroups: [
        { TargetGroupArn: TG1, LoadBalancerArns: [LB] },
        { TargetGroupArn: TG2, LoadBalancerArns: [LB] },
      ],
    });
    elb
      .on(DescribeListenersCommand, { LoadBalancerArn: LB })
      .resolvesOnce({
        Listeners: [{ ListenerArn: 'l-80', Port: 80, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG2 }] } }] }],
        NextMarker: 'm2',
      })
      .resolvesOnce({
        Listeners: [{ ListenerArn: 'l-8080', Port: 8080, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }],
      });
    const out = await statusCommand({ env: 'staging' }, '.', createClients('eu-west-1'));
    expect(out.split('\n').slice(0, 7)).toEqual([
      'greenlight-demo-staging: live release r1',
      "rollback to r0: not safe, r1's migrations break it (shop.0007_remove_item_price RemoveField: drops Item.price (column price): the live release still reads and writes it (acknowledged: unused)); greenlight rollback refuses without --accept-schema-risk",
      'serving listener (port 80) forwards to target group shop-r2 (release r2)',
      '',
      'RELEASE  GATE  SMOKE  TRAFFIC      CUTOVER   BAKE',
      'r1       pass  pass   not started  replaced  pass: passed after 780s',
      'r2       pass  pass   not started  serving   240s/780s: 5210 requests, 3 5xx (0.06%, limit 1%), 2 healthy and 0 unhealthy hosts',
    ]);
    expect(elb.commandCalls(DescribeListenersCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, 'm2']);
  });

  it('shows the weights of a step and its running figures while the steps weight the serving listener', async () => {
    const LB = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/shop-staging/50dc6c495c0c9188';
    const TG1 = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/shop-r1/1111111111111111';
    const TG2 = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/shop-r2/2222222222222222';
    const records: Record<string, unknown> = {
      '/greenlight/greenlight-demo/staging/live-release': 'r1',
      '/greenlight/greenlight-demo/staging/gate/r2': progressRecord('r2', { verdict: 'pass', lastMessage: '2/2 healthy' }),
      '/greenlight/greenlight-demo/staging/smoke/r2': smokeRecord('r2', 'pass', 'smoke: 2 paths answered as expected'),
      '/greenlight/greenlight-demo/staging/traffic/r2': trafficRecord('r2', [10, 50], {
        step: 1,
        weight: 50,
        lastMessage: 'traffic step 2 (50%) 45s/480s: 5xx 0.1% vs live 0.1% (p = 1, margin 1 point); p99 31 ms vs live 29 ms (limit 1.5× and +100 ms); 1 of 700 requests, live 1 of 700',
      }),
    };
    ssm.on(GetParameterCommand).callsFake(({ Name }: { Name: string }) => {
      const value = records[Name];
      if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      return { Parameter: { Value: typeof value === 'string' ? value : JSON.stringify(value) } };
    });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [group('shop-staging-Fleet-r1', 'r1', 2, [], TG1), group('shop-staging-Fleet-r2', 'r2', 2, [], TG2)],
    });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    elb.on(DescribeTargetGroupsCommand).resolves({
      TargetGroups: [
        { TargetGroupArn: TG1, LoadBalancerArns: [LB] },
        { TargetGroupArn: TG2, LoadBalancerArns: [LB] },
      ],
    });
    elb.on(DescribeListenersCommand, { LoadBalancerArn: LB }).resolves({
      Listeners: [
        {
          ListenerArn: 'l-80',
          Port: 80,
          DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG1, Weight: 50 }, { TargetGroupArn: TG2, Weight: 50 }] } }],
        },
      ],
    });
    const out = await statusCommand({ env: 'staging' }, '.', createClients('eu-west-1'));
    const state =
      'weights live 50 / new 50 (2 of 2): step 2 (50%) 45s/480s: 5xx 0.1% vs live 0.1% (p = 1, margin 1 point); ' +
      'p99 31 ms vs live 29 ms (limit 1.5× and +100 ms); 1 of 700 requests, live 1 of 700';
    expect(out.split('\n').slice(0, 7)).toEqual([
      'greenlight-demo-staging: live release r1',
      'serving listener (port 80) forwards 50% to target group shop-r1 (release r1)',
      'serving listener (port 80) forwards 50% to target group shop-r2 (release r2)',
      '',
      `RELEASE  GATE         SMOKE        ${'TRAFFIC'.padEnd(state.length)}  CUTOVER  BAKE`,
      `r1       not started  not started  ${'not started'.padEnd(state.length)}  serving  not started`,
      `r2       pass         pass         ${state}  serving  not started`,
    ]);
  });

  it('shows a failed scaling activity with its status message', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'r1' } });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('shop-staging-Fleet-r1', 'r1', 1, [])] });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    asg.on(DescribeScalingActivitiesCommand).resolves({
      Activities: [
        {
          ActivityId: 'a2',
          AutoScalingGroupName: 'shop-staging-Fleet-r1',
          StatusCode: 'Failed',
          StartTime: new Date('2026-11-25T10:00:00Z'),
          Description: 'Launching a new EC2 instance.  Status Reason: no capacity',
          StatusMessage: 'We currently do not have sufficient m6i.large capacity in the Availability Zone you requested',
          Cause: 'At 2026-11-25T09:59:00Z a scheduled action update of AutoScalingGroup constraints to min: 4 changing the desired capacity from 2 to 4.',
        },
      ],
    });
    const out = await statusCommand({ env: 'staging' }, '.', createClients('eu-west-1'));
    expect(out).toContain(
      'shop-staging-Fleet-r1  2026-11-25 10:00:00Z Failed: Launching a new EC2 instance.  Status Reason: no capacity (desired 2 → 4): ' +
        'We currently do not have sufficient m6i.large capacity in the Availability Zone you requested',
    );
  });

  it('says so before the first deploy', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    expect(await statusCommand({ env: 'production' }, '.', createClients('eu-west-1'))).toBe(
      'greenlight-demo-production: live release (none yet)\nno Auto Scaling groups in this stack',
    );
  });

  it('reports missing credentials in one line', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const err = await statusCommand({ env: 'staging' }, '.', createClients('eu-west-1')).then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err?.message).toBe('reading the state of greenlight-demo-staging: CredentialsProviderError: Could not load credentials from any providers');
  });

  it('rejects an unknown environment before calling AWS', async () => {
    await expect(statusCommand({ env: 'qa' }, '.', createClients('eu-west-1'))).rejects.toThrow(
      '--env "qa": unknown environment; defined in cdk.json: staging, production',
    );
    await expect(statusCommand({}, 'missing.json', createClients('eu-west-1'))).rejects.toThrow('--env <name> is required');
    expect(ssm.calls()).toHaveLength(0);
  });

  it("prints each release's preview key with --preview-key, and why not where these credentials cannot read it", async () => {
    const key = 'b5'.repeat(32);
    // No records of the phases; the live pointer names r1.
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: {} }));
    ssm.on(GetParameterCommand, { Name: '/greenlight/greenlight-demo/staging/live-release' }).resolves({ Parameter: { Value: 'r1' } });
    ssm.on(GetParameterCommand, { Name: '/greenlight/greenlight-demo/staging/preview/r2', WithDecryption: true }).resolves({ Parameter: { Value: key } });
    ssm
      .on(GetParameterCommand, { Name: '/greenlight/greenlight-demo/staging/preview/r1', WithDecryption: true })
      .rejects(Object.assign(new Error('not authorized to perform: kms:Decrypt'), { name: 'AccessDeniedException' }));
    asg.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [group('shop-staging-Fleet-r1', 'r1', 1, [['i-a', 'InService']]), group('shop-staging-Fleet-r2', 'r2', 1, [['i-c', 'InService']])],
    });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    const plain = await statusCommand({ env: 'staging' }, '.', createClients('eu-west-1'));
    expect(plain).not.toContain(key);
    expect(ssm.commandCalls(GetParameterCommand).filter((c) => c.args[0].input.WithDecryption)).toHaveLength(0);
    const out = await statusCommand({ env: 'staging', previewKey: true }, '.', createClients('eu-west-1'));
    expect(out.split('\n').slice(-4)).toEqual([
      'preview: send X-Greenlight-Preview-Key with the release\'s key, and the release header naming it, to the preview port',
      'RELEASE  PREVIEW KEY',
      'r1       /greenlight/greenlight-demo/staging/preview/r1 not readable with these credentials (AccessDeniedException)',
      `r2       ${key}`,
    ]);
  });
});
