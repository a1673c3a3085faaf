// bench:cutover — the same fleet, app, new release and load, deployed four ways in one run:
// (a) greenlight's blue/green behind the load balancer, (b) a restart of gunicorn in place on the
// live instances, as many teams deploy, (c) blue/green with a release whose pages fail as soon as
// it serves, which the bake window takes out again after an all-at-once cutover, and (d) the same
// failing release with traffic.steps [10], refused at its first step. Errors, error seconds and p99
// side by side, and for (c) and (d) the time from the first failed request until traffic was back on blue.
// The load arrives open-loop at a fixed rate, as a site's users do, so a release that answers slowly
// does not lower the load it fails: both failing rows get the same offered load, which each prints.
import * as path from 'node:path';
import { type EnvironmentSettings, TRAFFIC_DEFAULTS } from '../config/schema';
import type { LoadResult } from './load';
import { rehearse, restartInPlace } from './release';
import type { RehearsalReport } from './report';
import { scenarioNamed } from './scenarios';

export interface CutoverBenchOptions {
  readonly app: string;
  readonly environment: string;
  readonly settings: EnvironmentSettings;
  readonly timeScale: number;
  readonly ratePerSecond: number;
  /** The most requests in flight at once (the load's arrivals are open). */
  readonly concurrency: number;
  readonly workDir: string;
  readonly repoRoot: string;
  readonly log: (line: string) => void;
}

export interface CutoverBenchResult {
  /** The load every row got: open arrivals at this rate, at most this many in flight. */
  readonly load: { readonly ratePerSecond: number; readonly concurrency: number };
  readonly blueGreen: LoadResult;
  readonly inPlace: LoadResult;
  /** The blue/green run's own report (gate verdict, timeline). */
  readonly report: RehearsalReport;
  /** The release that fails after the cutover: its report (bake verdict, failed requests, times). */
  readonly failsAfterCutover: RehearsalReport;
  /** The same failing release with one traffic step of 10%: its report (the step's verdict, failed requests). */
  readonly failsAtFirstStep: RehearsalReport;
}

/** (d)'s traffic: one step of 10%, the environment's other traffic settings or their defaults. */
export const benchTraffic = (settings: EnvironmentSettings): NonNullable<EnvironmentSettings['traffic']> => ({
  ...(settings.traffic ?? { ...TRAFFIC_DEFAULTS }),
  steps: [10],
});

/** The bake (c) needs when the environment has none: the shortest the settings allow, default limits. */
export const BENCH_BAKE = { duration: 60, maxErrorRate: 1, maxErrors: 0, alarms: [] as string[] } as const;

// Each run's files go to a one-letter directory: gunicorn's unix socket path must stay short.
export async function benchCutover(o: CutoverBenchOptions): Promise<CutoverBenchResult> {
  const common = {
    app: o.app,
    environment: o.environment,
    settings: o.settings,
    scenario: scenarioNamed('healthy'),
    timeScale: o.timeScale,
    ratePerSecond: o.ratePerSecond,
    concurrency: o.concurrency,
    arrivals: 'open' as const,
    repoRoot: o.repoRoot,
  };
  o.log('(a) blue/green: a new fleet, the health gate, cutover, drain');
  const report = await rehearse({ ...common, workDir: path.join(o.workDir, 'a'), log: (l) => o.log(`  (a) ${l}`) });
  o.log('(b) restart in place: stop the old gunicorn, start the new one');
  const inPlace = await restartInPlace({ ...common, workDir: path.join(o.workDir, 'b'), log: (l) => o.log(`  (b) ${l}`) });
  o.log(`(c) blue/green, a release that fails after the cutover: the bake switches back${o.settings.bake ? '' : ` (bake ${BENCH_BAKE.duration}s: ${o.environment} has none)`}`);
  const { traffic: _traffic, ...allAtOnce } = o.settings;
  const bake = o.settings.bake ?? { ...BENCH_BAKE, alarms: [] };
  const failsAfterCutover = await rehearse({
    ...common,
    settings: { ...allAtOnce, bake },
    scenario: scenarioNamed('errors-after-cutover'),
    workDir: path.join(o.workDir, 'c'),
    log: (l) => o.log(`  (c) ${l}`),
  });
  o.log('(d) the same failing release with traffic.steps [10]: the first step puts every request back on blue');
  const failsAtFirstStep = await rehearse({
    ...common,
    settings: { ...allAtOnce, bake, traffic: benchTraffic(o.settings) },
    scenario: scenarioNamed('errors-after-cutover'),
    workDir: path.join(o.workDir, 'd'),
    log: (l) => o.log(`  (d) ${l}`),
  });
  return { load: { ratePerSecond: o.ratePerSecond, concurrency: o.concurrency }, blueGreen: report.load, inPlace: inPlace.load, report, failsAfterCutover, failsAtFirstStep };
}

const secs = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

/**
 * `; 121 of the 130 requests sent from the first failure until blue served them all failed (93%),
 * 130 in 3.3 s = 39 requests/s`: the share exposed, and the load that window got.
 */
function exposed(failed: number, sent: number | undefined, windowMs: number | undefined): string {
  if (sent === undefined || sent === 0) return '';
  const rate = windowMs === undefined || windowMs <= 0 ? '' : `, ${sent} in ${secs(windowMs)} = ${((1000 * sent) / windowMs).toFixed(0)} requests/s`;
  return `; ${failed} of the ${sent} requests sent from the first failure until blue served them all failed (${((100 * failed) / sent).toFixed(0)}%)${rate}`;
}

/** How the bake took the failing release out: failures before and after the switch back, and the times. */
function rollbackLine(r: RehearsalReport): string {
  const bake = r.bake;
  if (!bake || r.outcome !== 'rolled back after cutover') return `not rolled back after the cutover (${r.outcome}): ${r.mismatch ?? bake?.reason ?? 'no bake ran'}`;
  return (
    `${bake.failedBeforeSwitchBack} failed before the switch back, ${bake.failedAfterSwitchBack} after; ` +
    `detected ${secs(bake.detectionMs)} and back on blue ${secs(bake.switchedBackAfterFirstFailureMs)} after the first failed request ` +
    `(bake polled every ${bake.pollIntervalMs} ms)${exposed(bake.failedBeforeSwitchBack ?? 0, bake.sentFromFirstFailure, bake.switchedBackAfterFirstFailureMs)}: ${bake.reason}`
  );
}

/** How the first traffic step took the failing release out, and its failures against (c)'s. */
function stepLine(r: RehearsalReport, allAtOnce: RehearsalReport): string {
  const t = r.traffic;
  if (!t || r.outcome !== 'refused at a traffic step') return `not refused at a traffic step (${r.outcome}): ${r.mismatch ?? t?.reason ?? 'no steps ran'}`;
  const share = allAtOnce.load.failed > 0 ? ` = ${((100 * r.load.failed) / allAtOnce.load.failed).toFixed(0)}% of (c)'s` : '';
  return (
    `${t.failedDuringSteps} failed during the step${share}, ${t.failedAfterRestore ?? 0} after every request went back to blue; ` +
    `detected ${secs(t.detectionMs)} after the first failed request (polled every ${t.pollIntervalMs} ms)${exposed(t.failedDuringSteps, t.sentFromFirstFailure, t.restoredAfterFirstFailureMs)}: ${t.reason}`
  );
}

/** The side-by-side table. */
export function renderBench(result: CutoverBenchResult): string {
  const rate = (r: LoadResult) => (r.durationMs > 0 ? ((1000 * r.sent) / r.durationMs).toFixed(0) : 'n/a');
  const row = (name: string, r: LoadResult) =>
    [name.padEnd(28), String(r.sent).padStart(8), rate(r).padStart(5), String(r.failed).padStart(7), String(r.errorSeconds).padStart(13), `${r.latencyMs.p99} ms`.padStart(10), `${r.latencyMs.max} ms`.padStart(10)].join('  ');
  const kinds = (r: LoadResult) =>
    Object.entries({ ...r.serverErrors, ...r.connectionErrors })
      .map(([k, v]) => `${v}× ${k}`)
      .join(', ') || 'none';
  return [
    `load: open arrivals at ${result.load.ratePerSecond} requests/s (at most ${result.load.concurrency} in flight), the same in every row; req/s is each row's achieved rate over its run`,
    '',
    `${'deploy'.padEnd(28)}  ${'requests'.padStart(8)}  ${'req/s'.padStart(5)}  ${'errors'.padStart(7)}  ${'error seconds'.padStart(13)}  ${'p99'.padStart(10)}  ${'max'.padStart(10)}`,
    row('(a) greenlight blue/green', result.blueGreen),
    row('(b) restart in place', result.inPlace),
    row('(c) fails after cutover', result.failsAfterCutover.load),
    row('(d) fails, steps [10]', result.failsAtFirstStep.load),
    '',
    `(a) errors: ${kinds(result.blueGreen)}; gate ${result.report.gate.verdict}: ${result.report.gate.reason}`,
    `(b) errors: ${kinds(result.inPlace)}`,
    `(c) errors: ${kinds(result.failsAfterCutover.load)}; ${rollbackLine(result.failsAfterCutover)}`,
    `(d) errors: ${kinds(result.failsAtFirstStep.load)}; ${stepLine(result.failsAtFirstStep, result.failsAfterCutover)}`,
    '',
  ].join('\n');
}
