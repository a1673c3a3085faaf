// Time limits that hold: every custom resource's ServiceTimeout covers its longest run and fits
// CloudFormation's hour, and every polling Provider's totalTimeout is whole query intervals, so no
// valid setting stops synth with CannotDetermineRetryCount.
import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { describe, expect, it } from 'vitest';
import { BakeWindow } from '../../lib';
import { LIMITS } from '../../lib/config/schema';
import { pollingTimeouts } from '../../lib/constructs/provider-framework';
import { maxGateTimeout, providerTotalTimeout } from '../../lib/health-gate/time-limits';
import { BAKE_TIMING, bakeServiceTimeout, CUSTOM_RESOURCE_TIMEOUT_LIMIT, maxBakeDuration, wholeIntervals } from '../../lib/time-limits';
import { synthesize } from '../helpers/synth';

function bakeStack(duration: number, pollInterval?: number) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'shop-web', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
  const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Target', { vpc, port: 80, protocol: elbv2.ApplicationProtocol.HTTP });
  const after = new CfnResource(stack, 'Cutover', { type: 'AWS::CloudFormation::WaitConditionHandle' });
  new BakeWindow(stack, 'Bake-r1', {
    loadBalancer: alb,
    targetGroup,
    release: 'r1',
    duration: Duration.seconds(duration),
    pollInterval: pollInterval === undefined ? undefined : Duration.seconds(pollInterval),
    progressParameterName: '/greenlight/shop/web/bake/r1',
    after,
  });
  return Template.fromStack(stack);
}

/** The waiter's retry budget: what the Provider framework made of its totalTimeout. */
function waiterBudget(template: Template): { interval: number; attempts: number } {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  expect(machines).toHaveLength(1);
  const definition = JSON.stringify(machines[0].Properties.DefinitionString);
  const interval = Number(/\\"IntervalSeconds\\":(\d+)/.exec(definition)?.[1]);
  const attempts = Number(/\\"MaxAttempts\\":(\d+)/.exec(definition)?.[1]);
  return { interval, attempts };
}

describe('time limits', () => {
  it('bounds bake.duration so the bake fits CloudFormation\'s hour: 2970 s with the defaults', () => {
    expect(maxBakeDuration()).toBe(2970);
    expect(bakeServiceTimeout(maxBakeDuration())).toBe(CUSTOM_RESOURCE_TIMEOUT_LIMIT);
    expect(LIMITS.bakeDuration).toEqual([60, 2970]);
  });

  it('gives every valid bake duration and poll interval a totalTimeout of whole intervals within the limits', () => {
    for (const poll of [10, 15, 30, 45, 60, 77, 300]) {
      for (let duration = 60; duration <= maxBakeDuration(BAKE_TIMING.settle, poll); duration++) {
        const longest = Duration.seconds(duration + BAKE_TIMING.settle + BAKE_TIMING.giveUp);
        const { serviceTimeout, totalTimeout } = pollingTimeouts('BakeWindow', longest, Duration.seconds(poll));
        const [service, total] = [serviceTimeout.toSeconds(), totalTimeout.toSeconds()];
        if (total % poll !== 0 || total < service || service > CUSTOM_RESOURCE_TIMEOUT_LIMIT || service < longest.toSeconds() + poll) {
          expect.fail(`duration ${duration}s, poll ${poll}s: service ${service}s, total ${total}s`);
        }
      }
    }
  });

  it("gives every valid gate a Provider limit of whole poll intervals, covering the gate's service timeout", () => {
    for (let poll = LIMITS.pollInterval[0]; poll <= LIMITS.pollInterval[1]; poll++) {
      for (let timeout = LIMITS.gateTimeout[0]; timeout <= maxGateTimeout(poll); timeout += 7) {
        const total = providerTotalTimeout(timeout, poll);
        if (total % poll !== 0 || total < timeout + poll) expect.fail(`gate timeout ${timeout}s, poll ${poll}s: total ${total}s`);
      }
    }
  });

  it('rounds up to whole intervals', () => {
    expect(wholeIntervals(691, 30)).toBe(720);
    expect(wholeIntervals(720, 30)).toBe(720);
    expect(() => wholeIntervals(10, 0)).toThrow('interval 0s must be above 0');
  });

  it.each([61, 100, 2970])('synthesizes a %ds bake, with a ServiceTimeout and a waiter that covers it', (duration) => {
    const template = bakeStack(duration);
    const service = bakeServiceTimeout(duration);
    template.hasResourceProperties('Custom::BakeWindow', { ServiceTimeout: String(service) });
    const { interval, attempts } = waiterBudget(template);
    expect(interval).toBe(BAKE_TIMING.pollInterval);
    expect(interval * attempts).toBeGreaterThanOrEqual(service);
    expect(interval * attempts).toBeLessThan(service + 2 * interval);
  });

  it('synthesizes a bake whose poll interval does not divide its longest run', () => {
    const template = bakeStack(61, 77);
    const { interval, attempts } = waiterBudget(template);
    expect(interval).toBe(77);
    expect(interval * attempts).toBeGreaterThanOrEqual(bakeServiceTimeout(61, BAKE_TIMING.settle, 77));
  });

  it('refuses a bake that cannot fit, in one line naming the value and the limit', () => {
    expect(() => bakeStack(2971)).toThrow(/^duration: 2971s must be between 60 and 2970 seconds: CloudFormation waits at most an hour/);
    expect(() => bakeStack(2970, 60)).toThrow('duration: 2970s must be between 60 and 2940 seconds');
  });

  it('sets a ServiceTimeout within the hour on every custom resource of both environments', () => {
    const { templates } = synthesize({ release: 'r1' });
    const seen = new Set<string>();
    for (const template of Object.values(templates)) {
      const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: { ServiceTimeout?: string } }>;
      for (const [id, r] of Object.entries(resources)) {
        if (!r.Type.startsWith('Custom::')) continue;
        seen.add(r.Type);
        const timeout = Number(r.Properties.ServiceTimeout);
        if (!(timeout > 60 && timeout <= CUSTOM_RESOURCE_TIMEOUT_LIMIT)) expect.fail(`${id} (${r.Type}): ServiceTimeout ${r.Properties.ServiceTimeout}`);
      }
    }
    expect([...seen].sort()).toEqual([
      'Custom::BakeWindow',
      'Custom::CapacityProbe',
      'Custom::HealthGate',
      'Custom::PreviewKey',
      'Custom::ScalingHold',
      'Custom::SmokeCheck',
      'Custom::TrafficSteps',
      'Custom::VpcRestrictDefaultSG',
    ]);
  });

  it("gives a one-shot resource its handler's Lambda timeout and a margin", () => {
    const { templates } = synthesize({ release: 'r1' });
    const staging = templates['greenlight-demo-staging'].toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const smoke = Object.values(staging).find((r) => r.Type === 'Custom::SmokeCheck');
    const probe = Object.values(staging).find((r) => r.Type === 'Custom::CapacityProbe');
    // The smoke function may run 3 minutes; the probe's, 1 minute.
    expect(smoke?.Properties.ServiceTimeout).toBe('300');
    expect(probe?.Properties.ServiceTimeout).toBe('180');
  });
});
