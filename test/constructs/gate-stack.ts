// A minimal stack for the gate's constructs: a VPC, one group and whatever the test adds.
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { HealthGate, type HealthGateProps } from '../../lib/constructs/health-gate';

export function gateStack(context: Record<string, unknown> = { 'aws:cdk:bundling-stacks': [] }) {
  const app = new App({ context });
  const stack = new Stack(app, 'shop-staging', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const group = new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    instanceType: new ec2.InstanceType('t3.small'),
    machineImage: ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' }),
  });
  return { app, stack, vpc, group };
}

export const gateProps = (group: autoscaling.IAutoScalingGroup, overrides: Partial<HealthGateProps> = {}): HealthGateProps => ({
  group,
  release: 'r1',
  progressParameterName: '/greenlight/shop/staging/gate/r1',
  expectedInstances: 2,
  consecutiveHealthyPolls: 3,
  pollInterval: Duration.seconds(15),
  timeout: Duration.minutes(15),
  maxReplacedInstances: 2,
  ...overrides,
});

export const addGate = (stack: Stack, group: autoscaling.IAutoScalingGroup, overrides: Partial<HealthGateProps> = {}) =>
  new HealthGate(stack, `Gate-${overrides.release ?? 'r1'}`, gateProps(group, overrides));
