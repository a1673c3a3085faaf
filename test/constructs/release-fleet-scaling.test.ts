// The release fleet's scaling: policies and scheduled actions on the release's own group, the
// request-count policy on its own target group, and none of it created before `startScalingAfter`'s
// resources.
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { type FleetScaling, ReleaseFleet, startScalingAfter } from '../../lib/constructs/release-fleet';

function fleetStack(scaling: FleetScaling | undefined) {
  const app = new App();
  const stack = new Stack(app, 'shop-production', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(503) });
  // Two target groups: the group must name its own in the request-count policy, not the other.
  const targetGroup = (id: string, priority: number) => {
    const tg = new elbv2.ApplicationTargetGroup(stack, id, { vpc, port: 80, protocol: elbv2.ApplicationProtocol.HTTP, targetType: elbv2.TargetType.INSTANCE });
    listener.addAction(`${id}Rule`, { priority, conditions: [elbv2.ListenerCondition.httpHeader('X-Greenlight-Release', [id])], action: elbv2.ListenerAction.forward([tg]) });
    return tg;
  };
  const other = targetGroup('OtherTarget', 1);
  const own = targetGroup('OwnTarget', 2);
  const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  const fleet = new ReleaseFleet(stack, 'FleetR2', {
    vpc,
    release: 'r2',
    machineImage: ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' }),
    instanceType: new ec2.InstanceType('t3.small'),
    minCapacity: 2,
    maxCapacity: 12,
    desiredCapacity: 3,
    securityGroup: sg,
    instanceProfile: new iam.InstanceProfile(stack, 'Profile', { role }),
    targetGroup: own,
    userData: ec2.UserData.forLinux(),
    scaling,
  });
  const cutover = new CfnResource(stack, 'Cutover', { type: 'AWS::CloudFormation::WaitConditionHandle' });
  startScalingAfter(fleet, [cutover]);
  const template = Template.fromStack(stack);
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnResource);
  return { template, groupId: id(fleet.autoScalingGroup), ownId: id(own), otherId: id(other), listenerId: id(listener) };
}

const PRODUCTION: FleetScaling = {
  cpuUtilization: 60,
  requestsPerTargetPerMinute: 1200,
  scheduled: [{ name: 'weekday-morning', cron: '30 6 * * MON-FRI', timeZone: 'Europe/London', minCapacity: 4 }],
};

describe('ReleaseFleet scaling', () => {
  const production = fleetStack(PRODUCTION);
  it("attaches target tracking on CPU to the release's own group", () => {
    const { template, groupId } = production;
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      AutoScalingGroupName: { Ref: groupId },
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: 60 },
    });
  });

  it('tracks requests per target on its own target group, named with its load balancer', () => {
    const { template, groupId, ownId, otherId, listenerId } = production;
    const policies = Object.values(template.findResources('AWS::AutoScaling::ScalingPolicy')).filter(
      (p) => p.Properties.TargetTrackingConfiguration.PredefinedMetricSpecification.PredefinedMetricType === 'ALBRequestCountPerTarget',
    );
    expect(policies).toHaveLength(1);
    const [policy] = policies;
    expect(policy.Properties.AutoScalingGroupName).toEqual({ Ref: groupId });
    expect(policy.Properties.TargetTrackingConfiguration.TargetValue).toBe(1200);
    const label = JSON.stringify(policy.Properties.TargetTrackingConfiguration.PredefinedMetricSpecification.ResourceLabel);
    expect(label).toContain(`"${ownId}","TargetGroupFullName"`);
    // `app/<name>/<id>` of the load balancer, cut from the ARN of the listener the group's target group is behind.
    expect(label).toContain(`{"Fn::Split":["/",{"Ref":"${listenerId}"}]}`);
    expect(label).not.toContain(otherId);
  });

  it('creates the scheduled actions on the group with their cron, time zone and sizes', () => {
    const { template, groupId } = production;
    template.resourceCountIs('AWS::AutoScaling::ScheduledAction', 1);
    template.hasResourceProperties('AWS::AutoScaling::ScheduledAction', {
      AutoScalingGroupName: { Ref: groupId },
      Recurrence: '30 6 * * MON-FRI',
      TimeZone: 'Europe/London',
      MinSize: 4,
    });
  });

  it('creates every policy and scheduled action only after the given resources', () => {
    const { template } = production;
    const scaling = { ...template.findResources('AWS::AutoScaling::ScalingPolicy'), ...template.findResources('AWS::AutoScaling::ScheduledAction') };
    expect(Object.keys(scaling)).toHaveLength(3);
    for (const resource of Object.values(scaling)) expect(resource.DependsOn).toContain('Cutover');
  });

  it('without scaling the group has no policy and no scheduled action', () => {
    const { template } = fleetStack(undefined);
    template.resourceCountIs('AWS::AutoScaling::ScalingPolicy', 0);
    template.resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);
  });

  it('only what is set: a CPU policy alone', () => {
    const { template } = fleetStack({ cpuUtilization: 45 });
    template.resourceCountIs('AWS::AutoScaling::ScalingPolicy', 1);
    template.resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);
  });
});
