import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CapacityProbe, type CapacityProbeProps } from '../../lib/constructs/capacity-probe';

const setup = () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'shop-staging', { env: { account: '111111111111', region: 'eu-west-1' } });
};
const props = (overrides: Partial<CapacityProbeProps> = {}): CapacityProbeProps => ({
  release: 'r1',
  liveReleaseParameterName: '/greenlight/shop/staging/live-release',
  minCapacity: 1,
  desiredCapacity: 2,
  maxCapacity: 4,
  previewListenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/shop/abc/def',
  ...overrides,
});

describe('CapacityProbe', () => {
  /** A stack with one probe of the default props, synthesized once for the tests that only read it. */
  let defaultProbe: { stack: Stack; probe: CapacityProbe; template: Template } | undefined;
  const withDefaultProbe = () => {
    if (!defaultProbe) {
      const stack = setup();
      const probe = new CapacityProbe(stack, 'Capacity-r1', props());
      defaultProbe = { stack, probe, template: Template.fromStack(stack) };
    }
    return defaultProbe;
  };

  it('answers with a deploy-time token from its custom resource', () => {
    const { stack, probe, template } = withDefaultProbe();
    const [id] = Object.keys(template.findResources('Custom::CapacityProbe'));
    expect(stack.resolve(probe.desiredCapacity)).toEqual({ 'Fn::GetAtt': [id, 'DesiredCapacity'] });
    template.hasResourceProperties('Custom::CapacityProbe', {
      LiveReleaseParameter: '/greenlight/shop/staging/live-release',
      StackName: 'shop-staging',
      MinCapacity: 1,
      DesiredCapacity: 2,
      MaxCapacity: 4,
      Release: 'r1',
    });
  });

  it('reads the live pointer by name and describes groups and listener rules, nothing else', () => {
    const policies = withDefaultProbe().template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies)
      .filter((p) => String(p.Properties.PolicyName).startsWith('CapacityProbeProviderProbeRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((s: { Sid: string; Action: unknown; Resource: unknown }) => [s.Sid, s.Action])).toEqual([
      ['WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents']],
      ['ReadLiveRelease', 'ssm:GetParameter'],
      ['DescribeGroups', 'autoscaling:DescribeAutoScalingGroups'],
      ['DescribeListenerRules', 'elasticloadbalancing:DescribeRules'],
    ]);
    expect(JSON.stringify(statements[1].Resource)).toContain(':ssm:eu-west-1:111111111111:parameter/greenlight/shop/staging/live-release"');
  });

  it.each([
    [{ minCapacity: 0 }, 'minCapacity: 0 must be a whole number of at least 1'],
    [{ desiredCapacity: 5 }, 'desiredCapacity: 5 must lie between minCapacity 1 and maxCapacity 4'],
  ] as const)('rejects %j', (overrides, message) => {
    expect(() => new CapacityProbe(setup(), 'Capacity-r1', props(overrides))).toThrow(message);
  });

  it('gives a probe of another live pointer in the stack a Provider of its own', () => {
    const stack = setup();
    new CapacityProbe(stack, 'Capacity-r1', props());
    new CapacityProbe(stack, 'Capacity-r2', props({ release: 'r2' }));
    new CapacityProbe(stack, 'Capacity-other', props({ liveReleaseParameterName: '/greenlight/other/staging/live-release' }));
    expect(stack.node.tryFindChild('CapacityProbeProvider')).toBeDefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::CapacityProbe', 3);
    const readers = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      p.Properties.PolicyDocument.Statement.filter((s: { Sid: string }) => s.Sid === 'ReadLiveRelease').map((s: { Resource: unknown }) => JSON.stringify(s.Resource)),
    );
    expect(readers).toHaveLength(2);
    expect(readers.some((r) => r.includes('parameter/greenlight/other/staging/live-release'))).toBe(true);
  });
});
