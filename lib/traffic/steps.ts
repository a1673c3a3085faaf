// Progressive traffic as a pure state machine: (observation, policy, progress) -> decision.
// Each step gives the new release a share of the requests for a while; every poll applies the
// bake's absolute limits and alarms and the comparison with the live release, and a failure ends
// the run at once. At a step's end the comparison must pass on enough requests; too few extends
// the step up to a limit, then fails or passes as configured. The caller sets the weights.
import { type BakePolicy, breach } from '../bake/evaluate';
import type { TrafficObservation } from '../observations';
import { TRAFFIC_TIMING } from '../time-limits';
import { type ComparisonPolicy, compareReleases, type ReleaseFigures } from './compare';

export type { TrafficObservation } from '../observations';

export interface TrafficPolicy {
  /** The new release's percentages before 100, ascending, each 1–99. */
  readonly steps: readonly number[];
  /** Milliseconds each step lasts before it is judged. */
  readonly stepDurationMs: number;
  /**
   * Milliseconds to keep reading after a step's duration, for figures that arrive late
   * (CloudWatch's one-minute periods). 0 for counters read live.
   * @default 0
   */
  readonly settleMs?: number;
  /** How long a step with too few requests to judge may be extended, in milliseconds. */
  readonly maxExtensionMs: number;
  /** What a step that still has too few requests after its extension does. */
  readonly onTooFewRequests: 'fail' | 'pass';
  readonly comparison: ComparisonPolicy;
  /** The bake's absolute limits and alarms, applied in every step. */
  readonly limits: Pick<BakePolicy, 'maxErrorRate' | 'maxErrors' | 'alarms'>;
}

export interface TrafficProgress {
  readonly startedAt: number;
  /** Index of the current step in the policy's steps. */
  readonly step: number;
  /** The new release's percentage in the current step. */
  readonly weight: number;
  readonly stepStartedAt: number;
  readonly lastPollAt: number;
  readonly polls: number;
  /** The last poll's figures, for `greenlight status` and `watch`. */
  readonly release: ReleaseFigures;
  readonly live: ReleaseFigures;
  /** The verdict line of every step passed so far. */
  readonly passed: readonly string[];
  readonly lastMessage: string;
  readonly verdict: 'wait' | 'pass' | 'fail';
}

export interface TrafficDecision {
  /** `next`: the step passed and `progress` is the next one, whose weights the caller sets. */
  readonly verdict: 'wait' | 'next' | 'pass' | 'fail';
  readonly message: string;
  readonly progress: TrafficProgress;
}

/** How long transient errors may hold a step past its longest end before it fails for want of figures. */
export const TRAFFIC_GIVE_UP_MS = TRAFFIC_TIMING.giveUp * 1000;

/** The weights of a step: the new release's percentage and the live one's. */
export const stepWeights = (percent: number): { release: number; live: number } => ({ release: percent, live: 100 - percent });

/** `traffic step 1 (10%)` */
export const stepLabel = (index: number, percent: number): string => `traffic step ${index + 1} (${percent}%)`;

const NO_FIGURES: ReleaseFigures = { requests: 0, errors5xx: 0 };

/** The progress of a run whose first step's weights have just been set. */
export const startTraffic = (at: number, policy: Pick<TrafficPolicy, 'steps'>): TrafficProgress => ({
  startedAt: at,
  step: 0,
  weight: policy.steps[0],
  stepStartedAt: at,
  lastPollAt: at,
  polls: 0,
  release: NO_FIGURES,
  live: NO_FIGURES,
  passed: [],
  lastMessage: `${stepLabel(0, policy.steps[0])}: started`,
  verdict: 'wait',
});

/** Throws when a policy value is out of range; the message names the field and echoes the value. */
export function validateTrafficPolicy(policy: TrafficPolicy): void {
  const steps = policy.steps;
  const ascending = steps.every((s, i) => Number.isInteger(s) && s >= 1 && s <= 99 && (i === 0 || s > steps[i - 1]));
  if (steps.length === 0 || !ascending) {
    throw new Error(`traffic policy steps: ${JSON.stringify(steps)} must be 1 or more ascending whole percentages from 1 to 99`);
  }
  const check = (field: string, value: number, min: number, max: number) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new Error(`traffic policy ${field}: ${String(value)} must be a number from ${min} to ${max}`);
    }
  };
  check('stepDurationMs', policy.stepDurationMs, 1, Number.MAX_SAFE_INTEGER);
  check('settleMs', policy.settleMs ?? 0, 0, Number.MAX_SAFE_INTEGER);
  check('maxExtensionMs', policy.maxExtensionMs, 0, Number.MAX_SAFE_INTEGER);
  check('comparison.errorMargin', policy.comparison.errorMargin, 0, 100);
  check('comparison.confidence', policy.comparison.confidence, 50, 99.99);
  check('comparison.minRequests', policy.comparison.minRequests, 1, Number.MAX_SAFE_INTEGER);
  check('comparison.latencyRatio', policy.comparison.latencyRatio, 1, 100);
  check('comparison.latencyFloorMs', policy.comparison.latencyFloorMs, 0, 600_000);
}

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

const decide = (verdict: TrafficDecision['verdict'], message: string, progress: TrafficProgress): TrafficDecision => ({
  verdict,
  message,
  progress: { ...progress, verdict: verdict === 'next' ? 'wait' : verdict, lastMessage: message },
});

export function evaluateTrafficStep(observation: TrafficObservation, policy: TrafficPolicy, previous: TrafficProgress): TrafficDecision {
  validateTrafficPolicy(policy);
  // A finished run stays finished: a retried invocation must not turn a verdict around.
  if (previous.verdict !== 'wait') return { verdict: previous.verdict, message: previous.lastMessage, progress: previous };
  const label = stepLabel(previous.step, previous.weight);
  const elapsed = observation.at - previous.stepStartedAt;
  const end = policy.stepDurationMs + (policy.settleMs ?? 0);
  const longest = end + policy.maxExtensionMs;

  if (observation.transientError) {
    if (elapsed >= longest + TRAFFIC_GIVE_UP_MS) {
      return decide('fail', `${label}: no figures for the last ${seconds(elapsed - longest)}: ${observation.transientError}`, previous);
    }
    return decide('wait', `${label}: AWS API error, retrying: ${observation.transientError}`, previous);
  }

  const progress: TrafficProgress = {
    ...previous,
    lastPollAt: observation.at,
    polls: previous.polls + 1,
    release: observation.release,
    live: observation.live,
  };
  const hosts = { ...observation.release, healthyHosts: observation.healthyHosts, unhealthyHosts: observation.unhealthyHosts, alarms: observation.alarms };
  const absolute = breach(hosts, policy.limits, elapsed, label);
  if (absolute) return decide('fail', absolute, progress);

  const comparison = compareReleases(observation.release, observation.live, policy.comparison);
  const counts =
    `${observation.release.errors5xx} of ${observation.release.requests} requests, ` +
    `live ${observation.live.errors5xx} of ${observation.live.requests}`;
  if (comparison.verdict === 'fail') {
    return decide('fail', `${label}: ${comparison.failedText} over ${seconds(elapsed)}: ${counts}`, progress);
  }
  const figures = `${comparison.errorsText}; ${comparison.latencyText}; ${counts}`;
  if (elapsed < end) return decide('wait', `${label} ${seconds(elapsed)}/${seconds(end)}: ${figures}`, progress);

  if (comparison.verdict === 'nodata') {
    if (elapsed < longest) return decide('wait', `${label} extended ${seconds(elapsed)}/${seconds(longest)}: ${figures}`, progress);
    if (policy.onTooFewRequests === 'fail') {
      return decide(
        'fail',
        `${label}: ${comparison.errorsText} after ${seconds(elapsed)}; traffic.onTooFewRequests is "fail" ` +
          `(lower traffic.minRequests, lengthen traffic.stepDuration, or set it to "pass")`,
        progress,
      );
    }
  }
  const line =
    comparison.verdict === 'nodata'
      ? `${label}: passed unjudged after ${seconds(elapsed)} (traffic.onTooFewRequests is "pass"): ${figures}`
      : `${label}: passed after ${seconds(elapsed)}: ${figures}`;
  const passed = [...progress.passed, line];
  const nextIndex = progress.step + 1;
  if (nextIndex >= policy.steps.length) return decide('pass', line, { ...progress, passed });
  return decide('next', line, {
    ...progress,
    passed,
    step: nextIndex,
    weight: policy.steps[nextIndex],
    stepStartedAt: observation.at,
    release: NO_FIGURES,
    live: NO_FIGURES,
  });
}
