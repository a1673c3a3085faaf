// The bake window, run locally: after the cutover, the release's backend is polled on the gate's
// interval and its HAProxy counters (5xx and requests since the cutover, healthy and unhealthy
// servers) go to the same pure evaluateBake() as the AWS handler, which reads CloudWatch instead.
import { evaluateBake, type BakeDecision, type BakeObservation, type BakePolicy, type BakeProgress } from '../bake/evaluate';
import { bakeFiguresFrom, type BackendCounters, type BakeFigures } from './haproxy-state';
import type { RuntimeApi } from './runtime-api';

export interface BakeRunProps {
  readonly api: RuntimeApi;
  /** The release's backend, now live. */
  readonly backend: string;
  readonly policy: BakePolicy;
  readonly pollIntervalMs: number;
  /** The backend's counters at the cutover: the bake counts from there. */
  readonly baseline: BackendCounters;
  /** Progress lines while waiting. */
  readonly log: (line: string) => void;
}

export interface BakeRun {
  readonly decision: BakeDecision;
  /** Epoch ms of the poll that decided. */
  readonly decidedAt: number;
  /** The figures the verdict was based on. */
  readonly figures: BakeFigures;
  /** HAProxy's `show stat` at the verdict, kept in the logs. */
  readonly showStat: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One poll; a runtime API error is transient, as a CloudWatch throttle is for the Lambda. */
async function observe(props: BakeRunProps): Promise<{ observation: BakeObservation; figures?: BakeFigures; showStat: string }> {
  const at = Date.now();
  try {
    const { counters, servers, showStat } = await props.api.backend(props.backend);
    const figures = bakeFiguresFrom({ backend: props.backend, counters, baseline: props.baseline, servers });
    return { observation: { at, ...figures, alarms: [] }, figures, showStat };
  } catch (err) {
    const empty = { requests: 0, errors5xx: 0, healthyHosts: 0, unhealthyHosts: 0 };
    return { observation: { at, ...empty, alarms: [], transientError: (err as Error).message }, showStat: '' };
  }
}

export async function runBake(props: BakeRunProps): Promise<BakeRun> {
  let progress: BakeProgress | undefined;
  let last: { figures: BakeFigures; showStat: string } = { figures: { requests: 0, errors5xx: 0, healthyHosts: 0, unhealthyHosts: 0 }, showStat: '' };
  let lastLine = '';
  for (;;) {
    const began = Date.now();
    const { observation, figures, showStat } = await observe(props);
    if (figures) last = { figures, showStat };
    const decision = evaluateBake(observation, props.policy, progress);
    progress = decision.progress;
    if (decision.verdict !== 'wait') return { decision, decidedAt: observation.at, ...last };
    if (decision.message !== lastLine) props.log(decision.message);
    lastLine = decision.message;
    await sleep(Math.max(0, props.pollIntervalMs - (Date.now() - began)));
  }
}
