import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { statusCommand } from '../../lib/cli/status';
import { UserError } from '../../lib/errors';
import { createClients } from '../../lib/health-gate/aws';

const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web/0123456789abcdef';

const group = (name: string, release: string, desired: number, instances: Array<[string, string]>) => ({
  AutoScalingGroupName: name,
  MinSize: 1,
  MaxSize: 4,
  DesiredCapacity: desired,
  DefaultCooldown: 300,
  AvailabilityZones: ['eu-west-1a'],
  HealthCheckType: 'ELB',
  CreatedTime: new Date(0),
  TargetGroupARNs: [TG],
  Tags: [{ Key: 'greenlight:release', Value: release }],
  Instances: instances.map(([id, state]) => ({
    InstanceId: id,
    LifecycleState: state as 'InService',
    HealthStatus: 'Healthy',
    AvailabilityZone: 'eu-west-1a',
    ProtectedFromScaleIn: false,
  })),
});

beforeEach(() => {
  asg.reset();
  elb.reset();
  ssm.reset();
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
    const out = await statusCommand({ env: 'staging' }, 'cdk.json', createClients('eu-west-1'));
    expect(out).toBe(
      [
        'greenlight-demo-staging: live release r1',
        '',
        'GROUP                  RELEASE  LIVE  MIN  DESIRED  MAX  IN SERVICE',
        'shop-staging-Fleet-r1  r1       yes   1    2        4    2/2',
        'shop-staging-Fleet-r2  r2             1    2        4    1/2',
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
  });

  it('says so before the first deploy', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    expect(await statusCommand({ env: 'production' }, 'cdk.json', createClients('eu-west-1'))).toBe(
      'greenlight-demo-production: live release (none yet)\nno Auto Scaling groups in this stack',
    );
  });

  it('reports missing credentials in one line', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const err = await statusCommand({ env: 'staging' }, 'cdk.json', createClients('eu-west-1')).then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err?.message).toBe('reading the state of greenlight-demo-staging: CredentialsProviderError: Could not load credentials from any providers');
  });

  it('rejects an unknown environment before calling AWS', async () => {
    await expect(statusCommand({ env: 'qa' }, 'cdk.json', createClients('eu-west-1'))).rejects.toThrow(
      '--env "qa": unknown environment; defined in cdk.json: staging, production',
    );
    await expect(statusCommand({}, 'missing.json', createClients('eu-west-1'))).rejects.toThrow('--env <name> is required');
    expect(ssm.calls()).toHaveLength(0);
  });
});
