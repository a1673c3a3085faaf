// The gate's place in a real environment stack: capacity probe -> new group -> gate -> live pointer.
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { idsOfType, synthesize } from '../helpers/synth';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const only = (template: Template, type: string): [string, { Properties: Record<string, any>; DependsOn?: string[] }] => {
  const found = Object.entries(template.findResources(type));
  expect(found, type).toHaveLength(1);
  return found[0] as never;
};

// The synths of every environment, which the other synth files of the worker share (the same releases as traffic's and standby's).
const R1 = '2026.11.01-0a1b2c3';
const R2 = '2026.11.02-4d5e6f7';
const staging = (release: string) => synthesize({ release }).templates['greenlight-demo-staging'];
const production = () => synthesize({ release: 'r1' }).templates['greenlight-demo-production'];

describe('release chain in the environment stack', () => {
  // Synthesis is slow on a busy machine: do it in a hook, which has the longer time limit.
  beforeAll(() => {
    staging(R1);
    staging(R2);
    production();
  });

  it('sizes the new group with the capacity probe', () => {
    const template = staging(R1);
    const [probeId, probe] = only(template, 'Custom::CapacityProbe');
    const [, group] = only(template, 'AWS::AutoScaling::AutoScalingGroup');
    expect(probe.Properties).toMatchObject({
      LiveReleaseParameter: '/greenlight/greenlight-demo/staging/live-release',
      StackName: 'greenlight-demo-staging',
      MinCapacity: 1,
      DesiredCapacity: 2,
      MaxCapacity: 4,
    });
    expect(group.Properties.DesiredCapacity).toEqual({ 'Fn::GetAtt': [probeId, 'DesiredCapacity'] });
    expect(group.Properties.MinSize).toBe('1');
    expect(group.Properties.MaxSize).toBe('4');
  });

  it('makes the gate depend on the new group and expect the probed capacity', () => {
    const template = staging(R1);
    const [groupId] = only(template, 'AWS::AutoScaling::AutoScalingGroup');
    const [probeId] = only(template, 'Custom::CapacityProbe');
    const [, gate] = only(template, 'Custom::HealthGate');
    expect(gate.DependsOn).toContain(groupId);
    expect(gate.Properties).toMatchObject({
      GroupName: { Ref: groupId },
      Release: R1,
      ProgressParameter: `/greenlight/greenlight-demo/staging/gate/${R1}`,
      ExpectedInstances: { 'Fn::GetAtt': [probeId, 'DesiredCapacity'] },
      ConsecutiveHealthyPolls: 3,
      PollIntervalSeconds: 15,
      TimeoutSeconds: 900,
      MaxReplacedInstances: 2,
    });
  });

  it('changes the live pointer only after the bake, which follows the cutover', () => {
    const template = staging(R1);
    const [bakeId, bake] = only(template, 'Custom::BakeWindow');
    const [, pointer] = only(template, 'AWS::SSM::Parameter');
    expect(pointer.DependsOn).toContain(bakeId);
    expect(bake.DependsOn).toEqual([expect.stringMatching(/^LoadBalancerAlbHttp/)]);
    expect(pointer.Properties).toMatchObject({ Name: '/greenlight/greenlight-demo/staging/live-release', Value: R1, Type: 'String' });
  });

  it('gives a new release new probe, group and gate ids, keeps the pointer and the providers, and drops the old group', () => {
    const first = staging(R1);
    const second = staging(R2);
    for (const type of [
      'Custom::CapacityProbe',
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::AutoScaling::AutoScalingGroup',
      'Custom::HealthGate',
      'Custom::SmokeCheck',
      'Custom::BakeWindow',
    ]) {
      const [before] = idsOfType(first, type);
      const [after] = idsOfType(second, type);
      expect(before).toMatch(/^[A-Za-z]+202611010a1b2c3/);
      expect(after).toMatch(/^[A-Za-z]+202611024d5e6f7/);
      expect(idsOfType(second, type)).not.toContain(before);
    }
    expect(idsOfType(second, 'AWS::SSM::Parameter')).toEqual(idsOfType(first, 'AWS::SSM::Parameter'));
    expect(idsOfType(second, 'AWS::StepFunctions::StateMachine')).toEqual(idsOfType(first, 'AWS::StepFunctions::StateMachine'));
    expect(idsOfType(second, 'AWS::Lambda::Function')).toEqual(idsOfType(first, 'AWS::Lambda::Function'));
  });

  it("takes each environment's own gate policy", () => {
    const [, gate] = only(production(), 'Custom::HealthGate');
    const [, probe] = only(production(), 'Custom::CapacityProbe');
    expect(gate.Properties).toMatchObject({ ConsecutiveHealthyPolls: 4, TimeoutSeconds: 1200, PollIntervalSeconds: 15 });
    expect(probe.Properties).toMatchObject({ MinCapacity: 2, DesiredCapacity: 3, MaxCapacity: 12 });
  });
});
