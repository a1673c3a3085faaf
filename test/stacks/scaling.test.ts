// Scaling in the real environment stacks from cdk.json: production's policies and scheduled actions
// sit on the release's own group and target group, are created only after the cutover (which waits
// for the outgoing fleet's scaling to be held), and leave with their group; staging, without
// `scaling`, has none of it.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { idsOfType, synthesize } from '../helpers/synth';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };
// The synths of every environment, which environment-stack, cfn-lint and iam share within a worker.
const production = (release: string) => synthesize({ release }).templates['greenlight-demo-production'];
const staging = (release: string) => synthesize({ release }).templates['greenlight-demo-staging'];
const resources = (template: Template): Record<string, Resource> => template.toJSON().Resources;
const scalingOf = (template: Template) =>
  Object.entries(resources(template)).filter(([, r]) => r.Type === 'AWS::AutoScaling::ScalingPolicy' || r.Type === 'AWS::AutoScaling::ScheduledAction');

describe('scaling in the environment stack', () => {
  // Two synths, cached by the helper; slow on a busy machine, so outside any one test's limit.
  beforeAll(() => {
    synthesize({ release: 'r1' });
    synthesize({ release: 'r2' });
  }, 300_000);

  it("attaches production's CPU and request-count policies and its scheduled actions to the release's group", () => {
    const template = production('r2');
    const [groupId] = idsOfType(template, 'AWS::AutoScaling::AutoScalingGroup');
    const scaling = scalingOf(template);
    expect(scaling.map(([, r]) => r.Type).sort()).toEqual([
      'AWS::AutoScaling::ScalingPolicy',
      'AWS::AutoScaling::ScalingPolicy',
      'AWS::AutoScaling::ScheduledAction',
      'AWS::AutoScaling::ScheduledAction',
    ]);
    for (const [, r] of scaling) expect(r.Properties.AutoScalingGroupName).toEqual({ Ref: groupId });
    const metrics = scaling
      .filter(([, r]) => r.Type === 'AWS::AutoScaling::ScalingPolicy')
      .map(([, r]) => [r.Properties.TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType, r.Properties.TargetTrackingConfiguration.TargetValue]);
    expect(metrics.sort()).toEqual([['ALBRequestCountPerTarget', 1200], ['ASGAverageCPUUtilization', 60]]);
    const times = scaling.filter(([, r]) => r.Type === 'AWS::AutoScaling::ScheduledAction').map(([, r]) => [r.Properties.Recurrence, r.Properties.TimeZone, r.Properties.MinSize]);
    expect(times).toEqual([['30 6 * * MON-FRI', 'Europe/London', 4], ['0 20 * * MON-FRI', 'Europe/London', 2]]);
  });

  it('the request-count policy names the target group the release group is attached to', () => {
    const template = production('r2');
    const [group] = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup')) as Resource[];
    const [tgRef] = group.Properties.TargetGroupARNs as Array<{ Ref: string }>;
    const [, policy] = scalingOf(template).find(([, r]) => r.Properties.TargetTrackingConfiguration?.PredefinedMetricSpecification?.PredefinedMetricType === 'ALBRequestCountPerTarget') ?? [];
    expect(JSON.stringify(policy?.Properties.TargetTrackingConfiguration.PredefinedMetricSpecification.ResourceLabel)).toContain(`"${tgRef.Ref}","TargetGroupFullName"`);
  });

  it("holds the outgoing fleet's scaling after the gate, cuts over after the hold, and creates the new fleet's scaling after the cutover", () => {
    const template = production('r2');
    const [gateId] = idsOfType(template, 'Custom::HealthGate');
    const [holdId] = idsOfType(template, 'Custom::ScalingHold');
    const [listenerId] = idsOfType(template, 'AWS::ElasticLoadBalancingV2::Listener').filter((id) => resources(template)[id].Properties.Port === 443);
    const all = resources(template);
    expect(all[holdId].DependsOn).toContain(gateId);
    expect(all[holdId].Properties).toMatchObject({ LiveReleaseParameter: '/greenlight/greenlight-demo/production/live-release', StackName: 'greenlight-demo-production', Release: 'r2' });
    expect(all[listenerId].DependsOn).toContain(holdId);
    for (const [, r] of scalingOf(template)) expect(r.DependsOn).toContain(listenerId);
    const [pointerId] = Object.entries(all).find(([, r]) => r.Type === 'AWS::SSM::Parameter' && JSON.stringify(r.Properties.Name).includes('live-release')) ?? [];
    expect(pointerId && all[pointerId].DependsOn).toContain(holdId);
  });

  it("the hold may suspend and resume only this stack's groups", () => {
    const template = production('r2');
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const hold = statements.find((s: any) => JSON.stringify(s.Action).includes('autoscaling:SuspendProcesses'));
    expect([...hold.Action].sort()).toEqual(['autoscaling:ResumeProcesses', 'autoscaling:SuspendProcesses']);
    expect(JSON.stringify(hold.Resource)).toContain(':autoScalingGroup:*:autoScalingGroupName/greenlight-demo-production-*');
  });

  it('r1 to r2: every policy and scheduled action belongs to r2, and none of r1 remains, so CloudFormation deletes them with r1', () => {
    const r1 = production('r1');
    const r2 = production('r2');
    const r1Scaling = scalingOf(r1).map(([id]) => id);
    const r2Scaling = scalingOf(r2).map(([id]) => id);
    expect(r1Scaling).toHaveLength(4);
    expect(r2Scaling).toHaveLength(4);
    expect(r2Scaling.filter((id) => r1Scaling.includes(id))).toEqual([]);
    const [r1Group] = idsOfType(r1, 'AWS::AutoScaling::AutoScalingGroup');
    const [r2Group] = idsOfType(r2, 'AWS::AutoScaling::AutoScalingGroup');
    expect(r1Group).not.toBe(r2Group);
    expect(resources(r2)[r1Group]).toBeUndefined();
    expect(JSON.stringify(scalingOf(r2))).not.toContain(r1Group);
  });

  it('an environment without scaling has no policy, no scheduled action and no hold', () => {
    const template = staging('r2');
    expect(scalingOf(template)).toEqual([]);
    expect(idsOfType(template, 'Custom::ScalingHold')).toEqual([]);
  });
});
