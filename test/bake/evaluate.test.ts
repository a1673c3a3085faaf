import { describe, expect, it } from 'vitest';
import {
  BAKE_GIVE_UP_MS,
  type BakeDecision,
  type BakeObservation,
  type BakePolicy,
  type BakeProgress,
  evaluateBake,
  formatPercent,
} from '../../lib/bake/evaluate';

const policy: BakePolicy = { durationMs: 120_000, maxErrorRate: 1, maxErrors: 0, alarms: [] };

/** A poll `s` seconds after the cutover; clean figures unless patched. */
const at = (s: number, patch: Partial<BakeObservation> = {}): BakeObservation => ({
  at: 1_000_000 + s * 1000,
  requests: 100 * s,
  errors5xx: 0,
  healthyHosts: 2,
  unhealthyHosts: 0,
  alarms: [],
  ...patch,
});

const run = (polls: readonly BakeObservation[], p: BakePolicy = policy): BakeDecision[] => {
  let progress: BakeProgress | undefined;
  return polls.map((o) => {
    const decision = evaluateBake(o, p, progress);
    progress = decision.progress;
    return decision;
  });
};

interface Case {
  readonly name: string;
  readonly policy?: Partial<BakePolicy>;
  readonly polls: readonly BakeObservation[];
  readonly verdicts: ReadonlyArray<BakeDecision['verdict']>;
  readonly message: string;
}

const cases: Case[] = [
  {
    name: 'clean figures pass at the end of the duration',
    polls: [at(0, { requests: 0 }), at(60), at(120)],
    verdicts: ['wait', 'wait', 'pass'],
    message: 'bake: passed after 120s: 12000 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts',
  },
  {
    name: 'waits with the live figures',
    polls: [at(0, { requests: 0 }), at(45, { errors5xx: 4, requests: 4500 })],
    verdicts: ['wait', 'wait'],
    message: 'bake 45s/120s: 4500 requests, 4 5xx (0.09%, limit 1%), 2 healthy and 0 unhealthy hosts',
  },
  {
    name: 'a 5xx share above the limit fails',
    polls: [at(0, { requests: 0 }), at(120, { requests: 500, errors5xx: 37 })],
    verdicts: ['wait', 'fail'],
    message: "bake: 7.4% 5xx on the release's target group over 120s (limit 1%): 37 of 500 requests",
  },
  {
    name: 'a share exactly at the limit passes',
    polls: [at(0, { requests: 0 }), at(120, { requests: 500, errors5xx: 5 })],
    verdicts: ['wait', 'pass'],
    message: 'bake: passed after 120s: 500 requests, 5 5xx (1%, limit 1%), 2 healthy and 0 unhealthy hosts',
  },
  {
    name: 'maxErrors tolerates a handful of errors in little traffic',
    policy: { maxErrors: 2 },
    polls: [at(0, { requests: 0 }), at(120, { requests: 10, errors5xx: 2 })],
    verdicts: ['wait', 'pass'],
    message: 'bake: passed after 120s: 10 requests, 2 5xx (20%, limit 1%), 2 healthy and 0 unhealthy hosts',
  },
  {
    name: 'one more error than maxErrors fails when the share is above the limit',
    policy: { maxErrors: 2 },
    polls: [at(0, { requests: 0 }), at(30, { requests: 10, errors5xx: 3 })],
    verdicts: ['wait', 'fail'],
    message: "bake: 30% 5xx on the release's target group over 30s (limit 1%): 3 of 10 requests",
  },
  {
    name: 'a zero limit fails on the first 5xx',
    policy: { maxErrorRate: 0 },
    polls: [at(10, { requests: 10_000, errors5xx: 1 })],
    verdicts: ['fail'],
    message: "bake: 0.01% 5xx on the release's target group over 0s (limit 0%): 1 of 10000 requests",
  },
  {
    name: 'no requests is no breach',
    polls: [at(0, { requests: 0 }), at(120, { requests: 0 })],
    verdicts: ['wait', 'pass'],
    message: 'bake: passed after 120s: 0 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts',
  },
  {
    name: 'every target unhealthy fails, as the load balancer fails open',
    polls: [at(0, { requests: 0 }), at(40, { healthyHosts: 0, unhealthyHosts: 2 })],
    verdicts: ['wait', 'fail'],
    message:
      "bake: every target of the release's target group is unhealthy (0 of 2) after 40s; the load balancer fails open and still sends them requests",
  },
  {
    name: 'some targets unhealthy is reported, not a breach',
    polls: [at(0, { requests: 0 }), at(40, { healthyHosts: 1, unhealthyHosts: 1 })],
    verdicts: ['wait', 'wait'],
    message: 'bake 40s/120s: 4000 requests, 0 5xx (0%, limit 1%), 1 healthy and 1 unhealthy hosts',
  },
  {
    name: 'a scale-in during the bake is no breach: fewer healthy hosts, none unhealthy',
    polls: [
      at(0, { requests: 0, healthyHosts: 4 }),
      at(60, { healthyHosts: 3 }),
      at(120, { healthyHosts: 2 }),
    ],
    verdicts: ['wait', 'wait', 'pass'],
    message: 'bake: passed after 120s: 12000 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts',
  },
  {
    name: 'a scale-in that leaves one healthy host beside an unhealthy one waits',
    polls: [at(0, { requests: 0, healthyHosts: 3 }), at(60, { healthyHosts: 1, unhealthyHosts: 1 })],
    verdicts: ['wait', 'wait'],
    message: 'bake 60s/120s: 6000 requests, 0 5xx (0%, limit 1%), 1 healthy and 1 unhealthy hosts',
  },
  {
    name: 'a named alarm in ALARM fails with its reason',
    policy: { alarms: ['shop-p99-latency'] },
    polls: [
      at(0, { requests: 0, alarms: [{ name: 'shop-p99-latency', state: 'OK' }] }),
      at(60, { alarms: [{ name: 'shop-p99-latency', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [2.5] > 1.0' }] }),
    ],
    verdicts: ['wait', 'fail'],
    message: 'bake: alarm "shop-p99-latency" is in ALARM after 60s: Threshold Crossed: 1 datapoint [2.5] > 1.0',
  },
  {
    name: 'an alarm without data is no breach',
    policy: { alarms: ['shop-p99-latency'] },
    polls: [at(120, { alarms: [{ name: 'shop-p99-latency', state: 'INSUFFICIENT_DATA' }] })],
    verdicts: ['wait'],
    message: 'bake 0s/120s: 12000 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts',
  },
  {
    name: 'a named alarm that does not exist fails at once',
    policy: { alarms: ['shop-typo'] },
    polls: [at(0, { requests: 0 })],
    verdicts: ['fail'],
    message: 'bake: alarm "shop-typo" does not exist; name an existing CloudWatch alarm',
  },
  {
    name: 'settle time keeps watching for late figures',
    policy: { settleMs: 180_000 },
    polls: [at(0, { requests: 0 }), at(120), at(240), at(300)],
    verdicts: ['wait', 'wait', 'wait', 'pass'],
    message: 'bake: passed after 300s: 30000 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts',
  },
  {
    name: 'a breach in late figures still fails',
    policy: { settleMs: 180_000 },
    polls: [at(0, { requests: 0 }), at(120), at(240, { requests: 24_000, errors5xx: 2400 })],
    verdicts: ['wait', 'wait', 'fail'],
    message: "bake: 10% 5xx on the release's target group over 240s (limit 1%): 2400 of 24000 requests",
  },
  {
    name: 'a throttled poll waits',
    polls: [at(0, { requests: 0 }), at(30, { transientError: 'ThrottlingException: Rate exceeded' })],
    verdicts: ['wait', 'wait'],
    message: 'bake: AWS API error, retrying: ThrottlingException: Rate exceeded',
  },
];

describe('evaluateBake', () => {
  it.each(cases)('$name', ({ policy: patch, polls, verdicts, message }) => {
    const decisions = run(polls, { ...policy, ...patch });
    expect(decisions.map((d) => d.verdict)).toEqual(verdicts);
    expect(decisions.at(-1)?.message).toBe(message);
  });

  it('keeps the last figures in its progress', () => {
    const [, last] = run([at(0, { requests: 0 }), at(30, { requests: 300, errors5xx: 1, healthyHosts: 3 })]);
    expect(last.progress).toMatchObject({ polls: 2, requests: 300, errors5xx: 1, healthyHosts: 3, unhealthyHosts: 0, startedAt: 1_000_000 });
  });

  it('a finished bake stays finished', () => {
    const [, failed] = run([at(0, { requests: 0 }), at(30, { requests: 100, errors5xx: 50 })]);
    const again = evaluateBake(at(120), policy, failed.progress);
    expect(again.verdict).toBe('fail');
    expect(again.progress).toBe(failed.progress);
  });

  it('gives up when the figures stay out of reach long after the end', () => {
    const first = evaluateBake(at(0, { requests: 0 }), policy, undefined);
    const lateMs = 120_000 + BAKE_GIVE_UP_MS;
    const stuck = evaluateBake({ ...at(0), at: 1_000_000 + lateMs, transientError: 'ThrottlingException' }, policy, first.progress);
    expect(stuck.verdict).toBe('fail');
    expect(stuck.message).toBe('bake: no figures for the last 300s: ThrottlingException');
  });

  it.each([
    [{ durationMs: 0 }, 'bake policy durationMs: 0 must be a number from 1 to 9007199254740991'],
    [{ maxErrorRate: 101 }, 'bake policy maxErrorRate: 101 must be a number from 0 to 100'],
    [{ maxErrors: -1 }, 'bake policy maxErrors: -1 must be a number from 0 to 9007199254740991'],
  ])('refuses the policy %o', (patch, message) => {
    expect(() => evaluateBake(at(0), { ...policy, ...patch }, undefined)).toThrow(message);
  });
});

describe('formatPercent', () => {
  it.each([
    [7.4, '7.4%'],
    [100, '100%'],
    [1, '1%'],
    [0.04, '0.04%'],
    [0, '0%'],
    [33.333, '33.3%'],
  ])('%d -> %s', (value, text) => {
    expect(formatPercent(value)).toBe(text);
  });
});
