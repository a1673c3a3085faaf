import { describe, expect, it } from 'vitest';
import {
  evaluateTrafficStep,
  startTraffic,
  stepWeights,
  TRAFFIC_GIVE_UP_MS,
  type TrafficDecision,
  type TrafficObservation,
  type TrafficPolicy,
  type TrafficProgress,
} from '../../lib/traffic/steps';

const T0 = 1_000_000;
const policy: TrafficPolicy = {
  steps: [10, 50],
  stepDurationMs: 60_000,
  maxExtensionMs: 60_000,
  onTooFewRequests: 'fail',
  comparison: { errorMargin: 1, confidence: 99, minRequests: 100, latencyRatio: 1.5, latencyFloorMs: 100 },
  limits: { maxErrorRate: 1, maxErrors: 0, alarms: [] },
};

/** A poll `s` seconds after the run's start; the release gets `share` of 20 requests a second over the step so far. */
const poll = (s: number, stepStartS: number, share: number, patch: Partial<TrafficObservation> = {}): TrafficObservation => {
  const total = 20 * (s - stepStartS);
  return {
    at: T0 + s * 1000,
    release: { requests: Math.round(total * share), errors5xx: 0, p99Ms: 30 },
    live: { requests: Math.round(total * (1 - share)), errors5xx: 0, p99Ms: 28 },
    healthyHosts: 1,
    unhealthyHosts: 0,
    alarms: [],
    ...patch,
  };
};

const run = (polls: readonly TrafficObservation[], p: TrafficPolicy = policy): TrafficDecision[] => {
  let progress: TrafficProgress = startTraffic(T0, p);
  return polls.map((o) => {
    const decision = evaluateTrafficStep(o, p, progress);
    progress = decision.progress;
    return decision;
  });
};

describe('evaluateTrafficStep', () => {
  it('starts at the first step with its weights', () => {
    expect(startTraffic(T0, policy)).toMatchObject({ step: 0, weight: 10, verdict: 'wait' });
    expect(stepWeights(10)).toEqual({ release: 10, live: 90 });
  });

  it('clean figures go step by step, then pass', () => {
    const d = run([poll(30, 0, 0.1), poll(60, 0, 0.1), poll(90, 60, 0.5), poll(120, 60, 0.5)]);
    expect(d.map((x) => x.verdict)).toEqual(['wait', 'next', 'wait', 'pass']);
    expect(d[0].message).toBe(
      'traffic step 1 (10%) 30s/60s: 5xx 0% vs live 0% (too few requests to judge: 60 and 540, minimum 100 each); p99 30 ms vs live 28 ms (limit 1.5× and +100 ms); 0 of 60 requests, live 0 of 540',
    );
    expect(d[1].progress).toMatchObject({ step: 1, weight: 50, stepStartedAt: T0 + 60_000, verdict: 'wait' });
    expect(d[1].message).toMatch(/^traffic step 1 \(10%\): passed after 60s: 5xx 0% vs live 0%/);
    expect(d[3].message).toMatch(/^traffic step 2 \(50%\): passed after 60s: /);
    expect(d[3].progress.passed).toHaveLength(2);
  });

  it('fails at the first step when the release answers errors, naming both shares and the test', () => {
    const d = run([poll(30, 0, 0.1, { release: { requests: 1000, errors5xx: 41 }, live: { requests: 9000, errors5xx: 18 } })], {
      ...policy,
      limits: { ...policy.limits, maxErrorRate: 5 },
    });
    expect(d[0].verdict).toBe('fail');
    expect(d[0].message).toBe(
      'traffic step 1 (10%): 5xx 4.1% vs live 0.2% (p < 0.001, margin 1 point) over 30s: 41 of 1000 requests, live 18 of 9000',
    );
  });

  it("the bake's absolute limits apply in every step, before the comparison has enough requests", () => {
    const d = run([poll(5, 0, 0.1, { release: { requests: 10, errors5xx: 10 } })]);
    expect(d[0]).toMatchObject({
      verdict: 'fail',
      message: "traffic step 1 (10%): 100% 5xx on the release's target group over 5s (limit 1%): 10 of 10 requests",
    });
  });

  it('a named alarm in ALARM fails the step', () => {
    const d = run([poll(20, 0, 0.1, { alarms: [{ name: 'shop-latency', state: 'ALARM' }] })], {
      ...policy,
      limits: { ...policy.limits, alarms: ['shop-latency'] },
    });
    expect(d[0].message).toBe('traffic step 1 (10%): alarm "shop-latency" is in ALARM after 20s');
  });

  it('every target of the release unhealthy fails the step', () => {
    const d = run([poll(20, 0, 0.1, { healthyHosts: 0, unhealthyHosts: 1 })]);
    expect(d[0].message).toMatch(/^traffic step 1 \(10%\): every target of the release's target group is unhealthy/);
  });

  it('a latency regression fails with both p99s', () => {
    const slow = { requests: 120, errors5xx: 0, p99Ms: 331 };
    const d = run([poll(60, 0, 0.1, { release: slow, live: { requests: 1080, errors5xx: 0, p99Ms: 24 } })]);
    expect(d[0]).toMatchObject({
      verdict: 'fail',
      message: 'traffic step 1 (10%): p99 331 ms vs live 24 ms (limit 1.5× and +100 ms) over 60s: 0 of 120 requests, live 0 of 1080',
    });
  });

  it('too few requests extends the step up to the limit, then fails by default', () => {
    const few = (s: number) => poll(s, 0, 0.1, { release: { requests: 50, errors5xx: 0 } });
    const d = run([few(60), few(90), few(120)]);
    expect(d.map((x) => x.verdict)).toEqual(['wait', 'wait', 'fail']);
    expect(d[0].message).toMatch(/^traffic step 1 \(10%\) extended 60s\/120s: 5xx 0% vs live 0% \(too few requests to judge: 50 and 1080/);
    expect(d[2].message).toBe(
      'traffic step 1 (10%): 5xx 0% vs live 0% (too few requests to judge: 50 and 2160, minimum 100 each) after 120s; ' +
        'traffic.onTooFewRequests is "fail" (lower traffic.minRequests, lengthen traffic.stepDuration, or set it to "pass")',
    );
  });

  it('too few requests passes unjudged when configured so, and says so', () => {
    const d = run([poll(120, 0, 0.1, { release: { requests: 50, errors5xx: 0 } })], { ...policy, onTooFewRequests: 'pass' });
    expect(d[0].verdict).toBe('next');
    expect(d[0].message).toMatch(/^traffic step 1 \(10%\): passed unjudged after 120s \(traffic.onTooFewRequests is "pass"\)/);
  });

  it('enough requests within the extension passes the step', () => {
    const d = run([poll(60, 0, 0.1, { release: { requests: 50, errors5xx: 0 } }), poll(100, 0, 0.1)]);
    expect(d.map((x) => x.verdict)).toEqual(['wait', 'next']);
  });

  it('settle time keeps reading late figures before a step passes', () => {
    const d = run([poll(60, 0, 0.1), poll(120, 0, 0.1), poll(180, 0, 0.1)], { ...policy, settleMs: 120_000 });
    expect(d.map((x) => x.verdict)).toEqual(['wait', 'wait', 'next']);
  });

  it('a throttled poll waits, and gives up long after the longest end', () => {
    const d = run([poll(30, 0, 0.1, { transientError: 'ThrottlingException' })]);
    expect(d[0]).toMatchObject({ verdict: 'wait', message: 'traffic step 1 (10%): AWS API error, retrying: ThrottlingException' });
    const lateS = (120_000 + TRAFFIC_GIVE_UP_MS) / 1000;
    const late = run([poll(lateS, 0, 0.1, { transientError: 'ThrottlingException' })]);
    expect(late[0]).toMatchObject({ verdict: 'fail', message: 'traffic step 1 (10%): no figures for the last 300s: ThrottlingException' });
  });

  it('a finished run stays finished', () => {
    const [failed] = run([poll(5, 0, 0.1, { release: { requests: 10, errors5xx: 10 } })]);
    const again = evaluateTrafficStep(poll(60, 0, 0.1), policy, failed.progress);
    expect(again.verdict).toBe('fail');
    expect(again.progress).toBe(failed.progress);
  });

  it.each([
    [{ steps: [] }, 'traffic policy steps: [] must be 1 or more ascending whole percentages from 1 to 99'],
    [{ steps: [50, 10] }, 'traffic policy steps: [50,10] must be 1 or more ascending whole percentages from 1 to 99'],
    [{ steps: [100] }, 'traffic policy steps: [100] must be 1 or more ascending whole percentages from 1 to 99'],
    [{ stepDurationMs: 0 }, 'traffic policy stepDurationMs: 0 must be a number from 1 to 9007199254740991'],
  ])('refuses the policy %o', (patch, message) => {
    expect(() => evaluateTrafficStep(poll(1, 0, 0.1), { ...policy, ...patch }, startTraffic(T0, policy))).toThrow(message);
  });
});
