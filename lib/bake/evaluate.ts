// The bake window's decision as a pure function: (observation, policy, progress) -> verdict.
// After the cutover the release serves every user; the bake watches it and a breach fails the
// deploy, which points the listener back at the previous release. No clock, no I/O: the AWS
// handler feeds it CloudWatch figures and the local rehearsal HAProxy's counters.

import type { BakeObservation } from '../observations';
import { BAKE_TIMING } from '../time-limits';

export type { AlarmObservation, BakeObservation } from '../observations';

export interface BakePolicy {
  /** Milliseconds the release must serve without a breach. */
  readonly durationMs: number;
  /** The 5xx share, in percent of requests, above which the bake fails. */
  readonly maxErrorRate: number;
  /** 5xx answers tolerated whatever their share: a floor against one error in a handful of requests. */
  readonly maxErrors: number;
  /** Names of existing CloudWatch alarms; any of them in ALARM fails the bake. */
  readonly alarms: readonly string[];
  /**
   * Milliseconds to keep watching after the duration, for figures that arrive late (CloudWatch
   * publishes load-balancer metrics a few minutes behind). 0 for counters read live.
   * @default 0
   */
  readonly settleMs?: number;
}

export interface BakeProgress {
  /** Epoch milliseconds of the first poll: the cutover. */
  readonly startedAt: number;
  readonly lastPollAt: number;
  readonly polls: number;
  /** The last poll's figures, for `greenlight watch`. */
  readonly requests: number;
  readonly errors5xx: number;
  readonly healthyHosts: number;
  readonly unhealthyHosts: number;
  readonly lastMessage: string;
  readonly verdict: 'wait' | 'pass' | 'fail';
}

export interface BakeDecision {
  readonly verdict: 'wait' | 'pass' | 'fail';
  /** `bake: 7.4% 5xx on the release's target group over 120s (limit 1%): 37 of 500 requests` on a breach. */
  readonly message: string;
  readonly progress: BakeProgress;
}

/** How long transient errors may hold a finished bake before it fails for want of figures. */
export const BAKE_GIVE_UP_MS = BAKE_TIMING.giveUp * 1000;

export const freshBakeProgress = (at: number): BakeProgress => ({
  startedAt: at,
  lastPollAt: at,
  polls: 0,
  requests: 0,
  errors5xx: 0,
  healthyHosts: 0,
  unhealthyHosts: 0,
  lastMessage: '',
  verdict: 'wait',
});

/** Throws when a policy value is out of range; the message names the field and echoes the value. */
export function validateBakePolicy(policy: BakePolicy): void {
  const check = (field: 'durationMs' | 'maxErrorRate' | 'maxErrors' | 'settleMs', min: number, max: number) => {
    const value = policy[field] ?? 0;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new Error(`bake policy ${field}: ${String(value)} must be a number from ${min} to ${max}`);
    }
  };
  check('durationMs', 1, Number.MAX_SAFE_INTEGER);
  check('maxErrorRate', 0, 100);
  check('maxErrors', 0, Number.MAX_SAFE_INTEGER);
  check('settleMs', 0, Number.MAX_SAFE_INTEGER);
}

/** 7.4 -> `7.4%`, 100 -> `100%`, 0.04 -> `0.04%`. */
export function formatPercent(value: number): string {
  const digits = value > 0 && value < 0.1 ? 2 : 1;
  return `${Number(value.toFixed(digits))}%`;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/** The 5xx share in percent; 0 with no requests. */
export const errorRate = (requests: number, errors: number): number => (requests > 0 ? (errors / requests) * 100 : 0);

function figures(o: Pick<BakeObservation, 'requests' | 'errors5xx' | 'healthyHosts' | 'unhealthyHosts'>, policy: BakePolicy): string {
  const rate = formatPercent(errorRate(o.requests, o.errors5xx));
  return (
    `${o.requests} requests, ${o.errors5xx} 5xx (${rate}, limit ${formatPercent(policy.maxErrorRate)}), ` +
    `${o.healthyHosts} healthy and ${o.unhealthyHosts} unhealthy hosts`
  );
}

/**
 * Why the observation breaches the policy's absolute limits and alarms, or undefined. `label`
 * starts the message: the bake's, or a traffic step's, where the same limits apply.
 */
export function breach(
  o: Omit<BakeObservation, 'at' | 'transientError'>,
  policy: Pick<BakePolicy, 'alarms' | 'maxErrorRate' | 'maxErrors'>,
  elapsedMs: number,
  label = 'bake',
): string | undefined {
  for (const name of policy.alarms) {
    const alarm = o.alarms.find((a) => a.name === name);
    if (!alarm) return `${label}: alarm ${JSON.stringify(name)} does not exist; name an existing CloudWatch alarm`;
    if (alarm.state === 'ALARM') {
      const reason = alarm.reason ? `: ${alarm.reason}` : '';
      return `${label}: alarm ${JSON.stringify(name)} is in ALARM after ${seconds(elapsedMs)}${reason}`;
    }
  }
  // An ALB fails open: with every target unhealthy it sends them all traffic anyway.
  if (o.healthyHosts === 0 && o.unhealthyHosts > 0) {
    return (
      `${label}: every target of the release's target group is unhealthy (0 of ${o.unhealthyHosts}) after ` +
      `${seconds(elapsedMs)}; the load balancer fails open and still sends them requests`
    );
  }
  const rate = errorRate(o.requests, o.errors5xx);
  if (o.errors5xx > policy.maxErrors && rate > policy.maxErrorRate) {
    return (
      `${label}: ${formatPercent(rate)} 5xx on the release's target group over ${seconds(elapsedMs)} ` +
      `(limit ${formatPercent(policy.maxErrorRate)}): ${o.errors5xx} of ${o.requests} requests`
    );
  }
  return undefined;
}

const decide = (verdict: BakeDecision['verdict'], message: string, progress: BakeProgress): BakeDecision => ({
  verdict,
  message,
  progress: { ...progress, verdict, lastMessage: message },
});

export function evaluateBake(observation: BakeObservation, policy: BakePolicy, previous: BakeProgress | undefined): BakeDecision {
  validateBakePolicy(policy);
  // A finished bake stays finished: a retried invocation must not turn a verdict around.
  if (previous && previous.verdict !== 'wait') {
    return { verdict: previous.verdict, message: previous.lastMessage, progress: previous };
  }
  const base = previous ?? freshBakeProgress(observation.at);
  const elapsed = observation.at - base.startedAt;
  const end = policy.durationMs + (policy.settleMs ?? 0);

  if (observation.transientError) {
    if (elapsed >= end + BAKE_GIVE_UP_MS) {
      return decide('fail', `bake: no figures for the last ${seconds(elapsed - end)}: ${observation.transientError}`, base);
    }
    return decide('wait', `bake: AWS API error, retrying: ${observation.transientError}`, base);
  }

  const progress: BakeProgress = {
    ...base,
    lastPollAt: observation.at,
    polls: base.polls + 1,
    requests: observation.requests,
    errors5xx: observation.errors5xx,
    healthyHosts: observation.healthyHosts,
    unhealthyHosts: observation.unhealthyHosts,
  };
  const why = breach(observation, policy, elapsed);
  if (why) return decide('fail', why, progress);
  if (elapsed >= end) {
    return decide('pass', `bake: passed after ${seconds(elapsed)}: ${figures(observation, policy)}`, progress);
  }
  return decide('wait', `bake ${seconds(elapsed)}/${seconds(end)}: ${figures(observation, policy)}`, progress);
}
