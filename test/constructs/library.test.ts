// The constructs as a library: props that replace greenlight's fixed choices, imported load
// balancers, and the cutover's refusal of a listener it cannot change.
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { BakeWindow, ListenerCutover, LoadBalancer, ReleaseFleet, type ReleaseFleetProps, SmokeCheck } from '../../lib';

function setup() {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'shop-web', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const imported = LoadBalancer.fromLoadBalancerAttributes(stack, 'Imported', {
    loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/shop/0123456789abcdef',
    loadBalancerDnsName: 'shop-123.eu-west-1.elb.amazonaws.com',
    securityGroupId: 'sg-0aaaaaaaaaaaaaaaa',
    listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/shop/0123456789abcdef/1111111111111111',
    previewListenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/shop/0123456789abcdef/2222222222222222',
    previewPort: 8080,
    instanceSecurityGroupId: 'sg-0bbbbbbbbbbbbbbbb',
    vpc,
  });
  const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Target', { vpc, port: 80, protocol: elbv2.ApplicationProtocol.HTTP });
  return { stack, vpc, imported, targetGroup };
}

const fleetProps = (stack: Stack, vpc: ec2.IVpc, targetGroup: elbv2.IApplicationTargetGroup): ReleaseFleetProps => ({
  vpc,
  release: 'r1',
  machineImage: ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' }),
  instanceType: new ec2.InstanceType('t3.small'),
  minCapacity: 1,
  maxCapacity: 2,
  desiredCapacity: 1,
  securityGroup: new ec2.SecurityGroup(stack, 'Sg', { vpc }),
  instanceProfile: new iam.InstanceProfile(stack, 'Profile', { role: new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }) }),
  targetGroup,
  userData: ec2.UserData.forLinux(),
});

describe('the constructs as a library', () => {
  it("ReleaseFleet takes the subnets and the AMI's root device name", () => {
    const { stack, vpc, targetGroup } = setup();
    new ReleaseFleet(stack, 'Fleet', {
      ...fleetProps(stack, vpc, targetGroup),
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      rootDeviceName: '/dev/sda1',
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: { BlockDeviceMappings: [{ DeviceName: '/dev/sda1', Ebs: { Encrypted: true, VolumeType: 'gp3' } }] },
    });
    const isolated = vpc.isolatedSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as CfnResource) }));
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { VPCZoneIdentifier: isolated });
  });

  it.each([
    [{ minCapacity: 0 }, 'minCapacity: 0 must be at least 1'],
    [{ scaling: { cpuUtilization: 120 } }, 'scaling.cpuUtilization: 120 must be a percentage above 0 and at most 100'],
  ] as const)('ReleaseFleet rejects %j, naming the prop and the value', (overrides, message) => {
    const { stack, vpc, targetGroup } = setup();
    expect(() => new ReleaseFleet(stack, 'Fleet', { ...fleetProps(stack, vpc, targetGroup), ...overrides })).toThrow(message);
  });

  it('runs smoke checks and a bake against an imported load balancer', () => {
    const { stack, vpc, imported, targetGroup } = setup();
    const gate = new CfnResource(stack, 'Gate', { type: 'AWS::CloudFormation::WaitConditionHandle' });
    new SmokeCheck(stack, 'Smoke-r1', {
      vpc,
      loadBalancer: imported,
      release: 'r1',
      previewHeader: 'X-Greenlight-Release',
      paths: ['/'],
      resultParameterName: '/greenlight/shop/web/smoke/r1',
      after: gate,
    });
    new BakeWindow(stack, 'Bake-r1', {
      loadBalancer: imported.alb,
      targetGroup,
      release: 'r1',
      duration: Duration.minutes(5),
      progressParameterName: '/greenlight/shop/web/bake/r1',
      after: gate,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::SmokeCheck', { BaseUrl: 'http://shop-123.eu-west-1.elb.amazonaws.com:8080' });
    template.hasResourceProperties('Custom::BakeWindow', { LoadBalancer: 'app/shop/0123456789abcdef' });
    // The imported load balancer's security group admits the checks' function.
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: 'sg-0aaaaaaaaaaaaaaaa', FromPort: 8080 });
  });

  it('gives smoke checks with another result path a Provider of their own', () => {
    const { stack, vpc, imported } = setup();
    const gate = new CfnResource(stack, 'Gate', { type: 'AWS::CloudFormation::WaitConditionHandle' });
    for (const [release, env] of [['r1', 'web'], ['r2', 'web'], ['r1', 'admin']]) {
      new SmokeCheck(stack, `Smoke-${env}-${release}`, {
        vpc,
        loadBalancer: imported,
        release,
        previewHeader: 'X-Greenlight-Release',
        paths: ['/'],
        resultParameterName: `/greenlight/shop/${env}/smoke/${release}`,
        after: gate,
      });
    }
    expect(stack.node.tryFindChild('SmokeCheckProvider')).toBeDefined();
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Function', 4);
  });

  it("refuses to cut over a listener it cannot change, naming it", () => {
    const { stack, imported, targetGroup } = setup();
    expect(() => new ListenerCutover(stack, 'Cutover', { listener: imported.listener, targetGroup, after: [] })).toThrow(
      'listener: shop-web/Imported/Listener is not a listener defined in this app',
    );
  });

  it('a ListenerCutover stands for the listener: what depends on it waits for the listener', () => {
    const { stack, vpc, targetGroup } = setup();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(503) });
    const cutover = new ListenerCutover(stack, 'Cutover', { listener, targetGroup, after: [] });
    const after = new CfnResource(stack, 'After', { type: 'AWS::CloudFormation::WaitConditionHandle' });
    after.node.addDependency(cutover);
    const resources = Template.fromStack(stack).toJSON().Resources;
    expect(resources.After.DependsOn).toEqual([stack.getLogicalId(listener.node.defaultChild as CfnResource)]);
  });
});
