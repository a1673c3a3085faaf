// The bake window, run locally: after the cutover, the release's backend is polled on the gate's
// interval and its HAProxy counters (5xx and requests since the cutover, healthy and unhealthy
// servers) go to the same pure evaluateBake() as the AWS handler, which reads CloudWatch instead.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateBake, type BakeDecision, type BakeObservation, type BakePolicy, type BakeProgress } from '../bake/evaluate';
import type { EnvironmentSettings } from '../config/schema';
import { bakeFiguresFrom, type BackendCounters, type BakeFigures } from './haproxy-state';
import type { LoadGenerator } from './load';
import type { BakeReport } from './report';
import type { RuntimeApi } from './runtime-api';
import type { Stage } from './stage';

type BakeSettings = NonNullable<EnvironmentSettings['bake']>;

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

/**
 * The bake policy, with its duration scaled. The rehearsal has no CloudWatch, so named alarms are not
 * watched here; HAProxy's counters are read live, so nothing needs time to settle.
 */
export function bakePolicyFrom(bake: BakeSettings, timeScale: number): BakePolicy {
  return {
    durationMs: Math.max(1, Math.round(bake.duration * 1000 * timeScale)),
    maxErrorRate: bake.maxErrorRate,
    maxErrors: bake.maxErrors,
    alarms: [],
    settleMs: 0,
  };
}

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

/** The bake phase: the window on green's backend, counted from its counters at the cutover. */
export async function bakeGreen(stage: Stage, settings: BakeSettings, baseline: BackendCounters): Promise<BakeRun> {
  const policy = bakePolicyFrom(settings, stage.o.timeScale);
  const ignored = settings.alarms.length > 0 ? `; alarms ${settings.alarms.join(', ')} are CloudWatch's and not watched here` : '';
  stage.mark('bake', `${policy.durationMs} ms on ${stage.greenBackend}, polled every ${stage.policy.pollIntervalMs} ms${ignored}`);
  const run = await runBake({
    api: stage.api,
    backend: stage.greenBackend,
    policy,
    pollIntervalMs: stage.policy.pollIntervalMs,
    baseline,
    log: stage.progress(),
  });
  // HAProxy's own view at the verdict, next to its log.
  fs.writeFileSync(path.join(stage.dir('haproxy'), 'show-stat-at-bake-verdict.csv'), run.showStat);
  stage.mark(`bake ${run.decision.verdict}`, run.decision.message);
  return run;
}

/** The bake's figures, and where the load's failed requests fell around the cutover and the switch back. */
export function bakeReport(stage: Stage, bake: BakeRun, load: LoadGenerator, cutoverAt: number, switchBackAt: number | undefined): BakeReport {
  const during = load.failuresSent(cutoverAt, switchBackAt);
  const after = switchBackAt === undefined ? 0 : load.failuresSent(switchBackAt).count;
  const policy = bakePolicyFrom(stage.o.settings.bake as BakeSettings, stage.o.timeScale);
  return {
    verdict: bake.decision.verdict === 'pass' ? 'pass' : 'fail',
    reason: bake.decision.message,
    durationMs: policy.durationMs,
    pollIntervalMs: stage.policy.pollIntervalMs,
    maxErrorRate: policy.maxErrorRate,
    maxErrors: policy.maxErrors,
    figures: bake.figures,
    decidedAfterCutoverMs: bake.decidedAt - cutoverAt,
    ...(switchBackAt !== undefined
      ? {
          failedBeforeSwitchBack: during.count,
          failedAfterSwitchBack: after,
          ...(during.firstAt !== undefined
            ? {
                detectionMs: bake.decidedAt - during.firstAt,
                switchedBackAfterFirstFailureMs: switchBackAt - during.firstAt,
                sentFromFirstFailure: load.sentBetween(during.firstAt, switchBackAt),
              }
            : {}),
        }
      : {}),
  };
}
