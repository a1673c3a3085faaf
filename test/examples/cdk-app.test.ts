// The example CDK app (examples/cdk-app): an app with its own VPC and load balancer composes one
// release from the package entry's constructs. Synthesized in-process.
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ShopStack } from '../../examples/cdk-app/lib/shop-stack';

function synth(release: string) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ShopStack(app, 'shop-web', { env: { account: '111111111111', region: 'eu-west-1' }, app: 'shop', envName: 'web', release });
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return { stack, template: Template.fromStack(stack), id };
}

describe('examples/cdk-app', () => {
  const { stack, template, id } = synth('r1');
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }>;

  it("uses the app's own VPC and load balancer, and builds no other", () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    expect(resources[id(stack.vpc)].Type).toBe('AWS::EC2::VPC');
    expect(resources[id(stack.alb)].Type).toBe('AWS::ElasticLoadBalancingV2::LoadBalancer');
    const subnets = JSON.stringify(resources[id(stack.fleet.autoScalingGroup)].Properties.VPCZoneIdentifier);
    const privateSubnets = stack.vpc.privateSubnets.map((s) => id(s));
    expect(privateSubnets.length).toBeGreaterThan(0);
    for (const subnet of privateSubnets) expect(subnets).toContain(subnet);
  });

  it("attaches the release's group to its own target group only", () => {
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
    expect(resources[id(stack.fleet.autoScalingGroup)].Properties.TargetGroupARNs).toEqual([{ Ref: id(stack.target.targetGroup) }]);
  });

  it("forwards the app's listener to the release only after its gate", () => {
    const listener = resources[id(stack.listener)];
    expect(listener.Properties.DefaultActions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: id(stack.target.targetGroup) } }]);
    expect(listener.DependsOn).toContain(stack.getLogicalId(stack.gate.customResource.node.defaultChild as CfnElement));
    const gate = Object.entries(resources).find(([, r]) => r.Type === 'Custom::HealthGate');
    expect(gate?.[1].Properties.GroupName).toEqual({ Ref: id(stack.fleet.autoScalingGroup) });
  });

  it('the next release gets new fleet, target group and gate ids, and keeps the listener', () => {
    const next = synth('r2');
    expect(next.id(next.stack.listener)).toBe(id(stack.listener));
    expect(next.id(next.stack.fleet.autoScalingGroup)).not.toBe(id(stack.fleet.autoScalingGroup));
    expect(next.id(next.stack.target.targetGroup)).not.toBe(id(stack.target.targetGroup));
  });
});
