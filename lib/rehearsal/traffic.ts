// Progressive traffic, run locally: after the smoke checks, HAProxy gives green each step's share of
// the listener's requests (one `set map` of the weights map), and every poll judges the step with
// the same pure evaluateTrafficStep() as the AWS step resource: both backends' HAProxy counters since
// the step began, green's servers, and each backend's p99 server response time from HAProxy's
// request log over the same window. A refused step puts every request back on blue first.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BAKE_DEFAULTS, type EnvironmentSettings } from '../config/schema';
import { evaluateTrafficStep, startTraffic, stepLabel, type TrafficDecision, type TrafficObservation, type TrafficPolicy } from '../traffic/steps';
import type { ReleaseFigures } from '../traffic/compare';
import { REQUEST_LOG_PREFIX } from './haproxy-config';
import { bakeFiguresFrom, type BackendCounters, parseRequestLog, percentile99 } from './haproxy-state';
import { setGreenWeight } from './load-balancer';
import type { LoadGenerator } from './load';
import type { TrafficReport } from './report';
import { sleep, type Stage } from './stage';

type TrafficSettings = NonNullable<EnvironmentSettings['traffic']>;

/**
 * The steps' policy with their durations scaled. HAProxy's counters and log are read live, so nothing
 * needs time to settle; the rehearsal has no CloudWatch, so named alarms are not watched.
 */
export function trafficPolicyFrom(settings: EnvironmentSettings, timeScale: number): TrafficPolicy {
  const t = settings.traffic as TrafficSettings;
  const bake = settings.bake ?? BAKE_DEFAULTS;
  const scaled = (s: number) => Math.max(1, Math.round(s * 1000 * timeScale));
  return {
    steps: t.steps,
    stepDurationMs: scaled(t.stepDuration),
    settleMs: 0,
    maxExtensionMs: t.maxExtension === 0 ? 0 : scaled(t.maxExtension),
    onTooFewRequests: t.onTooFewRequests,
    comparison: {
      errorMargin: t.errorMargin,
      confidence: t.confidence,
      minRequests: t.minRequests,
      latencyRatio: t.latencyRatio,
      latencyFloorMs: t.latencyFloorMs,
    },
    limits: { maxErrorRate: bake.maxErrorRate, maxErrors: bake.maxErrors, alarms: [] },
  };
}

export interface TrafficRun {
  readonly decision: TrafficDecision;
  readonly policy: TrafficPolicy;
  /** Epoch ms at which HAProxy acknowledged the first step's weights. */
  readonly startedAt: number;
  readonly decidedAt: number;
  /** Epoch ms at which every request went back to blue, after a refused step. */
  readonly restoredAt?: number;
}

/** Each backend's p99 server response time over [since, until) from HAProxy's request log. */
function p99s(stage: Stage, since: number, until: number): Record<string, number | undefined> {
  const logPath = path.join(stage.dir('haproxy'), 'haproxy.log');
  const requests = parseRequestLog(fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8') : '', REQUEST_LOG_PREFIX).filter(
    (r) => r.at >= since && r.at < until && r.serverMs !== undefined,
  );
  const of = (backend: string) => percentile99(requests.filter((r) => r.backend === backend).map((r) => r.serverMs as number));
  return { [stage.blueBackend]: of(stage.blueBackend), [stage.greenBackend]: of(stage.greenBackend) };
}

/** One poll: both backends since the step's baselines, green's servers, both p99s. */
async function observe(stage: Stage, baseline: Record<'green' | 'blue', BackendCounters>, stepStartedAt: number): Promise<TrafficObservation> {
  const at = Date.now();
  try {
    const [green, blue] = await Promise.all([stage.api.backend(stage.greenBackend), stage.api.backend(stage.blueBackend)]);
    const g = bakeFiguresFrom({ backend: stage.greenBackend, counters: green.counters, baseline: baseline.green, servers: green.servers });
    const b = bakeFiguresFrom({ backend: stage.blueBackend, counters: blue.counters, baseline: baseline.blue, servers: blue.servers });
    const latency = p99s(stage, stepStartedAt, at);
    const figures = (f: { requests: number; errors5xx: number }, p99: number | undefined): ReleaseFigures => ({
      requests: f.requests,
      errors5xx: f.errors5xx,
      ...(p99 !== undefined ? { p99Ms: p99 } : {}),
    });
    return {
      at,
      release: figures(g, latency[stage.greenBackend]),
      live: figures(b, latency[stage.blueBackend]),
      healthyHosts: g.healthyHosts,
      unhealthyHosts: g.unhealthyHosts,
      alarms: [],
    };
  } catch (err) {
    const none = { requests: 0, errors5xx: 0 };
    return { at, release: none, live: none, healthyHosts: 0, unhealthyHosts: 0, alarms: [], transientError: (err as Error).message };
  }
}

const counters = async (stage: Stage) => ({
  green: (await stage.api.backend(stage.greenBackend)).counters,
  blue: (await stage.api.backend(stage.blueBackend)).counters,
});

/**
 * The steps: green gets each step's share in turn, judged on every poll of the gate's interval.
 * `whenGreenServes` runs once green has its first users (a scenario's fault strikes then).
 */
export async function stepGreen(stage: Stage, whenGreenServes: () => Promise<void>): Promise<TrafficRun> {
  const policy = trafficPolicyFrom(stage.o.settings, stage.o.timeScale);
  const log = stage.progress();
  let baseline = await counters(stage);
  const startedAt = await setGreenWeight(stage, policy.steps[0]);
  let progress = startTraffic(startedAt, policy);
  stage.mark(stepLabel(0, progress.weight), `${stage.greenBackend} gets ${progress.weight}% of the listener's requests, ${stage.blueBackend} the rest`);
  await whenGreenServes();
  let lastLine = '';
  for (;;) {
    await sleep(stage.policy.pollIntervalMs);
    const observation = await observe(stage, baseline, progress.stepStartedAt);
    const decision = evaluateTrafficStep(observation, policy, progress);
    if (decision.verdict === 'fail') {
      const restoredAt = await setGreenWeight(stage, 0);
      stage.mark('traffic refused', decision.message);
      stage.mark('every request back on blue', `${stage.greenBackend} gets 0% again; ${stage.blueBackend}'s instances never stopped`);
      return { decision, policy, startedAt, decidedAt: observation.at, restoredAt };
    }
    if (decision.verdict === 'pass') {
      stage.mark('traffic steps passed', decision.message);
      return { decision, policy, startedAt, decidedAt: observation.at };
    }
    if (decision.verdict === 'next') {
      stage.mark('traffic step passed', decision.message);
      baseline = await counters(stage);
      const at = await setGreenWeight(stage, decision.progress.weight);
      progress = { ...decision.progress, stepStartedAt: at };
      stage.mark(stepLabel(progress.step, progress.weight), `${stage.greenBackend} gets ${progress.weight}% of the listener's requests`);
      continue;
    }
    progress = decision.progress;
    if (decision.message !== lastLine) log(decision.message);
    lastLine = decision.message;
  }
}

/** The steps' verdict, both releases' figures at it, and the load's failed requests during the steps. */
export function trafficReport(stage: Stage, run: TrafficRun, load: LoadGenerator): TrafficReport {
  const p = run.decision.progress;
  // Failures while green had a share: until every request went back to blue, or until the cutover.
  const during = load.failuresSent(run.startedAt, run.restoredAt ?? run.decidedAt);
  return {
    verdict: run.decision.verdict === 'fail' ? 'fail' : 'pass',
    reason: run.decision.message,
    steps: [...run.policy.steps],
    stepDurationMs: run.policy.stepDurationMs,
    pollIntervalMs: stage.policy.pollIntervalMs,
    step: p.step + 1,
    weight: p.weight,
    passed: [...p.passed],
    release: p.release,
    live: p.live,
    decidedAfterStartMs: run.decidedAt - run.startedAt,
    failedDuringSteps: during.count,
    ...(run.restoredAt !== undefined ? { failedAfterRestore: load.failuresSent(run.restoredAt).count } : {}),
    ...(during.firstAt !== undefined
      ? {
          detectionMs: run.decidedAt - during.firstAt,
          sentFromFirstFailure: load.sentBetween(during.firstAt, run.restoredAt ?? run.decidedAt),
          restoredAfterFirstFailureMs: (run.restoredAt ?? run.decidedAt) - during.firstAt,
        }
      : {}),
  };
}
