// The new release judged against the live one over the same minutes, as pure functions: its 5xx
// share by a one-sided test on two proportions, its p99 response time by a ratio and a floor.
// No clock, no I/O: the AWS step resource feeds them CloudWatch figures, the rehearsal HAProxy's.
import { errorRate, formatPercent } from '../bake/evaluate';
import type { ReleaseFigures } from '../observations';

export type { ReleaseFigures } from '../observations';

export interface ComparisonPolicy {
  /** Percentage points by which the new release's 5xx share may exceed the live one's. */
  readonly errorMargin: number;
  /** Confidence in percent (e.g. 99) that the share exceeds the margin before a step fails. */
  readonly confidence: number;
  /** Requests each release must have answered in the window before it is judged. */
  readonly minRequests: number;
  /** The new p99 may be at most this many times the live one ... */
  readonly latencyRatio: number;
  /** ... or at most this many milliseconds above it: a step fails only when both are exceeded. */
  readonly latencyFloorMs: number;
}

export interface ProportionTest {
  /** The shares in percent. */
  readonly releaseRate: number;
  readonly liveRate: number;
  /** The one-sided p-value of "the release's share exceeds the live one's by more than the margin". */
  readonly p: number;
  /** p below 1 − confidence. */
  readonly significant: boolean;
}

export interface Comparison {
  /** `nodata` when either release answered fewer than `minRequests`. */
  readonly verdict: 'pass' | 'fail' | 'nodata';
  /** The 5xx figures and the test, e.g. `5xx 4.1% vs live 0.2% (p < 0.001, margin 1 point)`. */
  readonly errorsText: string;
  /** The latency figures, e.g. `p99 412 ms vs live 18 ms (limit 1.5× and +100 ms)`. */
  readonly latencyText: string;
  /** What failed, when the verdict is `fail`: the errors' text, the latency's, or both. */
  readonly failedText?: string;
}

/**
 * The standard normal's upper tail, 1 − Φ(z), through erfc (Abramowitz and Stegun 7.1.26, absolute
 * error below 1.5e-7: enough to tell p < 0.001 from p = 0.01).
 */
export function normalUpperTail(z: number): number {
  if (z < 0) return 1 - normalUpperTail(-z);
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return 0.5 * poly * Math.exp(-x * x);
}

/**
 * One-sided test of H0: p_release − p_live ≤ margin against H1: it is larger. The shares are
 * Agresti and Caffo's (one error and one success added to each release), so a release with no
 * errors at all still has a variance, and a handful of requests cannot look certain.
 */
export function proportionTest(release: ReleaseFigures, live: ReleaseFigures, marginPoints: number, confidence: number): ProportionTest {
  const adjusted = (f: ReleaseFigures) => (f.errors5xx + 1) / (f.requests + 2);
  const pr = adjusted(release);
  const pl = adjusted(live);
  const se = Math.sqrt((pr * (1 - pr)) / (release.requests + 2) + (pl * (1 - pl)) / (live.requests + 2));
  const z = (pr - pl - marginPoints / 100) / se;
  const p = normalUpperTail(z);
  return {
    releaseRate: rate(release),
    liveRate: rate(live),
    p,
    significant: p < 1 - confidence / 100,
  };
}

const rate = (f: ReleaseFigures): number => errorRate(f.requests, f.errors5xx);
const formatShare = formatPercent;

/** `p < 0.001`, `p = 0.012`, `p = 0.62`. */
export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  return `p = ${Number(p.toPrecision(2))}`;
}

const points = (margin: number) => `margin ${Number(margin.toFixed(2))} point${margin === 1 ? '' : 's'}`;
const ms = (value: number | undefined) => (value === undefined ? 'n/a' : `${Math.round(value)} ms`);

/** Whether the release's p99 is beyond both the ratio and the floor above the live one's. */
export function latencyRegressed(release: number | undefined, live: number | undefined, policy: Pick<ComparisonPolicy, 'latencyRatio' | 'latencyFloorMs'>): boolean {
  if (release === undefined || live === undefined) return false;
  return release > live * policy.latencyRatio && release - live > policy.latencyFloorMs;
}

/** The release against the live one over the same window. */
export function compareReleases(release: ReleaseFigures, live: ReleaseFigures, policy: ComparisonPolicy): Comparison {
  const latencyText =
    `p99 ${ms(release.p99Ms)} vs live ${ms(live.p99Ms)} ` +
    `(limit ${Number(policy.latencyRatio.toFixed(2))}× and +${Math.round(policy.latencyFloorMs)} ms)`;
  if (release.requests < policy.minRequests || live.requests < policy.minRequests) {
    const errorsText =
      `5xx ${formatShare(rate(release))} vs live ${formatShare(rate(live))} ` +
      `(too few requests to judge: ${release.requests} and ${live.requests}, minimum ${policy.minRequests} each)`;
    return { verdict: 'nodata', errorsText, latencyText };
  }
  const test = proportionTest(release, live, policy.errorMargin, policy.confidence);
  const errorsText = `5xx ${formatShare(test.releaseRate)} vs live ${formatShare(test.liveRate)} (${formatP(test.p)}, ${points(policy.errorMargin)})`;
  const failed = [
    ...(test.significant ? [errorsText] : []),
    ...(latencyRegressed(release.p99Ms, live.p99Ms, policy) ? [latencyText] : []),
  ];
  if (failed.length > 0) return { verdict: 'fail', errorsText, latencyText, failedText: failed.join('; ') };
  return { verdict: 'pass', errorsText, latencyText };
}
