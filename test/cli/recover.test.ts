// greenlight recover with CloudFormation, ELB, Auto Scaling and SSM mocked, through the CLI's entry:
// a stack stuck in UPDATE_ROLLBACK_FAILED has its failed resources named with their reasons; the
// serving listener, when stuck or weighted by stuck traffic steps, is put back on the live
// release's target group before ContinueUpdateRollback skips it; any other state, a missing stack
// or a listener with no live release to return to is one line, exit 2, and nothing is changed.
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationClient,
  ContinueUpdateRollbackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  type StackEvent,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { DescribeListenersCommand, DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { planRecovery, type RecoverFacts } from '../../lib/cli/recover-plan';
import { cliInProcess } from '../helpers/cli';
import { cdkContext } from '../helpers/settings';

const APP = cdkContext().app;
const STACK = `${APP}-staging`;
const LIVE_PARAMETER = `/greenlight/${APP}/staging/live-release`;
const cfn = mockClient(CloudFormationClient);
const ssm = mockClient(SSMClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const asg = mockClient(AutoScalingClient);
const LB = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/shop/50dc6c495c0c9188';
const LIVE_TG = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/r1-web/73e2d6bc24d8a067';
const FAILED_TG = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/r2-web/0123456789abcdef';
const SERVING = `${LB.replace(':loadbalancer/', ':listener/')}/1111111111111111`;
const PREVIEW = `${LB.replace(':loadbalancer/', ':listener/')}/2222222222222222`;

const resource = (id: string, type: string, status: string, physical?: string): StackResourceSummary => ({
  LogicalResourceId: id,
  ResourceType: type,
  ResourceStatus: status as StackResourceSummary['ResourceStatus'],
  PhysicalResourceId: physical,
  LastUpdatedTimestamp: new Date(0),
});
const event = (id: string, type: string, status: string, reason?: string): StackEvent => ({
  StackId: 'id',
  EventId: `${id}-${status}`,
  StackName: STACK,
  LogicalResourceId: id,
  ResourceType: type,
  ResourceStatus: status as StackEvent['ResourceStatus'],
  ResourceStatusReason: reason,
  Timestamp: new Date(0),
});
const LISTENER = resource('LoadBalancerServingListener', 'AWS::ElasticLoadBalancingV2::Listener', 'UPDATE_FAILED', SERVING);
const GATE = resource('GateR2', 'Custom::HealthGate', 'UPDATE_FAILED', 'gate-r2');
const POINTER = resource('LiveRelease', 'AWS::SSM::Parameter', 'UPDATE_FAILED', LIVE_PARAMETER);

let order: string[];
const stuck = (failed: StackResourceSummary[]) => {
  cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_ROLLBACK_FAILED', CreationTime: new Date(0) }] });
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [resource('Alb', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'UPDATE_COMPLETE', LB), ...failed] });
};
const servingForwardsTo = (...groups: Array<{ arn: string; weight: number }>) =>
  elb.on(DescribeListenersCommand).resolves({
    Listeners: [
      { ListenerArn: SERVING, Port: 80, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: groups.map((g) => ({ TargetGroupArn: g.arn, Weight: g.weight })) } }] },
      { ListenerArn: PREVIEW, Port: 8080, DefaultActions: [{ Type: 'fixed-response' }] },
    ],
  });
const recover = (...extra: string[]) => cliInProcess(['recover', '--env', 'staging', ...extra]);
const changed = () => [...order];

/** r1 live with its target group behind the load balancer; the serving listener still on r2 (the failed release). */
beforeEach(() => {
  for (const m of [cfn, ssm, elb, asg]) m.reset();
  order = [];
  ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: {} }));
  ssm.on(GetParameterCommand, { Name: LIVE_PARAMETER }).resolves({ Parameter: { Value: 'r1' } });
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: `${STACK}-Fleet-r1`,
        MinSize: 2,
        MaxSize: 4,
        DesiredCapacity: 2,
        DefaultCooldown: 300,
        AvailabilityZones: ['eu-west-1a'],
        HealthCheckType: 'ELB',
        CreatedTime: new Date(0),
        TargetGroupARNs: [LIVE_TG],
      },
    ],
  });
  elb.on(DescribeTargetGroupsCommand, { TargetGroupArns: [LIVE_TG] }).resolves({ TargetGroups: [{ TargetGroupArn: LIVE_TG, LoadBalancerArns: [LB] }] });
  servingForwardsTo({ arn: FAILED_TG, weight: 1 });
  elb.on(ModifyListenerCommand).callsFake(() => (order.push('ModifyListener'), {}));
  cfn.on(ContinueUpdateRollbackCommand).callsFake(() => (order.push('ContinueUpdateRollback'), {}));
  // Newest first: the rollback's failure, then the update's own, then an older update's.
  cfn.on(DescribeStackEventsCommand).resolves({
    StackEvents: [
      event(STACK, 'AWS::CloudFormation::Stack', 'UPDATE_ROLLBACK_FAILED', 'The following resource(s) failed to update: [LoadBalancerServingListener]'),
      event('LoadBalancerServingListener', 'AWS::ElasticLoadBalancingV2::Listener', 'UPDATE_FAILED', 'Rate exceeded (Service: ElasticLoadBalancingV2)'),
      event('GateR2', 'Custom::HealthGate', 'UPDATE_FAILED', 'Received response status [FAILED] from custom resource'),
      event(STACK, 'AWS::CloudFormation::Stack', 'UPDATE_ROLLBACK_IN_PROGRESS', 'Gate failed'),
      event('FleetR2', 'AWS::AutoScaling::AutoScalingGroup', 'CREATE_FAILED', 'r2: 0/2 healthy'),
      event(STACK, 'AWS::CloudFormation::Stack', 'UPDATE_IN_PROGRESS', 'User Initiated'),
      event('LoadBalancerServingListener', 'AWS::ElasticLoadBalancingV2::Listener', 'UPDATE_FAILED', 'an older update'),
    ],
  });
});

describe('greenlight recover, a stack in UPDATE_ROLLBACK_FAILED', () => {
  it('listener stuck on the failed release: puts it back on the live target group, then continues skipping it', async () => {
    stuck([LISTENER, GATE]);
    const run = await recover();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('LoadBalancerServingListener (AWS::ElasticLoadBalancingV2::Listener');
    expect(run.stdout).toContain('Rate exceeded (Service: ElasticLoadBalancingV2)');
    expect(run.stdout).not.toContain('an older update');
    expect(run.stdout).toContain('GateR2 (Custom::HealthGate gate-r2): Received response status [FAILED]');
    expect(run.stdout).toContain('putting it back on targetgroup/r1-web/73e2d6bc24d8a067 of the live release r1');
    expect(changed()).toEqual(['ModifyListener', 'ContinueUpdateRollback']);
    const modify = elb.commandCalls(ModifyListenerCommand)[0].args[0].input;
    expect(modify.ListenerArn).toBe(SERVING);
    expect(modify.DefaultActions?.[0].ForwardConfig?.TargetGroups).toEqual([{ TargetGroupArn: LIVE_TG, Weight: 1 }]);
    expect(cfn.commandCalls(ContinueUpdateRollbackCommand)[0].args[0].input).toEqual({ StackName: STACK, ResourcesToSkip: ['LoadBalancerServingListener', 'GateR2'] });
  });

  it('traffic steps stuck with the listener weighted between releases: all back on the live release first', async () => {
    stuck([resource('TrafficR2', 'Custom::TrafficSteps', 'UPDATE_FAILED', 'traffic-r2')]);
    servingForwardsTo({ arn: LIVE_TG, weight: 90 }, { arn: FAILED_TG, weight: 10 });
    const run = await recover();
    expect(run.code).toBe(0);
    expect(changed()).toEqual(['ModifyListener', 'ContinueUpdateRollback']);
    expect(cfn.commandCalls(ContinueUpdateRollbackCommand)[0].args[0].input.ResourcesToSkip).toEqual(['TrafficR2']);
  });

  it('listener fine: the listener is left alone; the other failures are skipped, with what to undo by hand', async () => {
    stuck([GATE, POINTER]);
    servingForwardsTo({ arn: LIVE_TG, weight: 1 });
    const run = await recover();
    expect(run.code).toBe(0);
    expect(changed()).toEqual(['ContinueUpdateRollback']);
    expect(cfn.commandCalls(ContinueUpdateRollbackCommand)[0].args[0].input.ResourcesToSkip).toEqual(['GateR2', 'LiveRelease']);
    expect(run.stdout).toContain(`LiveRelease (AWS::SSM::Parameter): put the previous release back, aws ssm put-parameter --overwrite --type String --name ${LIVE_PARAMETER}`);
  });

  it('listener stuck but already on the live release (put back by hand): skipped without a change', async () => {
    stuck([LISTENER]);
    servingForwardsTo({ arn: LIVE_TG, weight: 1 });
    expect((await recover()).code).toBe(0);
    expect(changed()).toEqual(['ContinueUpdateRollback']);
    expect(cfn.commandCalls(ContinueUpdateRollbackCommand)[0].args[0].input.ResourcesToSkip).toEqual(['LoadBalancerServingListener']);
  });

  it('nothing marked failed (the cause was fixed): continues, skipping nothing', async () => {
    stuck([]);
    const run = await recover();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('skipping nothing');
    expect(cfn.commandCalls(ContinueUpdateRollbackCommand)[0].args[0].input).toEqual({ StackName: STACK });
    expect(changed()).toEqual(['ContinueUpdateRollback']);
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    stuck([LISTENER]);
    const run = await recover('--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('putting it back on');
    expect(run.stdout).toContain('--dry-run: nothing changed');
    expect(changed()).toEqual([]);
  });
});

describe('greenlight recover refuses, in one line and changing nothing', () => {
  it('no --env, and an environment cdk.json does not have', async () => {
    expect(await cliInProcess(['recover'])).toEqual({ code: 2, stdout: '', stderr: 'greenlight: --env <name> is required: the environment in cdk.json, e.g. --env staging\n' });
    const run = await recover('--env', 'nowhere');
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('nowhere');
    expect(cfn.calls()).toHaveLength(0);
  });

  it('a stack in any other state', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(0) }] });
    const run = await recover();
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`greenlight: ${STACK} is UPDATE_COMPLETE, not UPDATE_ROLLBACK_FAILED: nothing to recover, nothing changed\n`);
    expect(cfn.commandCalls(ListStackResourcesCommand)).toHaveLength(0);
    expect(changed()).toEqual([]);
  });

  it('a missing stack', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }));
    const run = await recover();
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`greenlight: ${STACK}: no such stack in this account and region; nothing to recover\n`);
    expect(changed()).toEqual([]);
  });

  it('a stuck listener with no live release recorded to put it back on', async () => {
    stuck([LISTENER, GATE]);
    ssm.on(GetParameterCommand, { Name: LIVE_PARAMETER }).rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: {} }));
    const run = await recover();
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(`LoadBalancerServingListener decides where requests go and the live release's target group is unknown (nothing recorded at ${LIVE_PARAMETER})`);
    expect(changed()).toEqual([]);
  });

  it('a deploy role that may not move the listener: one line, and the rollback is not continued', async () => {
    stuck([LISTENER]);
    elb.on(ModifyListenerCommand).rejects(Object.assign(new Error('User is not authorized to perform: elasticloadbalancing:ModifyListener'), { name: 'AccessDenied' }));
    const run = await recover();
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`greenlight: recovering ${STACK}: AccessDenied: User is not authorized to perform: elasticloadbalancing:ModifyListener\n`);
    expect(cfn.commandCalls(ContinueUpdateRollbackCommand)).toHaveLength(0);
  });
});

describe('planRecovery', () => {
  const facts: RecoverFacts = { app: APP, envName: 'staging', stackName: STACK, status: 'UPDATE_ROLLBACK_FAILED', failed: [], live: { release: 'r1', targetGroupArn: LIVE_TG } };
  const listener = { logicalId: 'L', type: 'AWS::ElasticLoadBalancingV2::Listener', physicalId: SERVING };

  it('counts a failed listener it cannot tell from the serving one as the serving one', () => {
    expect(planRecovery({ ...facts, failed: [listener] })).toEqual({ action: 'refuse', line: expect.stringContaining('no serving listener was found') });
  });

  it('skips the preview listener without touching the serving one', () => {
    const serving = { listenerArn: SERVING, port: 80, targetGroups: [{ arn: FAILED_TG, weight: 1 }] };
    expect(planRecovery({ ...facts, serving, failed: [{ ...listener, physicalId: PREVIEW }] })).toEqual({ action: 'continue', failed: [{ ...listener, physicalId: PREVIEW }], skip: ['L'], byHand: [] });
  });
});
