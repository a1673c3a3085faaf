// bench:cutover — the same fleet, app, new release and load, deployed two ways in one run:
// (a) greenlight's blue/green behind the load balancer, (b) a restart of gunicorn in place on the
// live instances, as seed 002 deployed before its fix. Errors, error seconds and p99 side by side.
import * as path from 'node:path';
import type { EnvironmentSettings } from '../config/schema';
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
  readonly concurrency: number;
  readonly workDir: string;
  readonly repoRoot: string;
  readonly log: (line: string) => void;
}

export interface CutoverBenchResult {
  readonly blueGreen: LoadResult;
  readonly inPlace: LoadResult;
  /** The blue/green run's own report (gate verdict, timeline). */
  readonly report: RehearsalReport;
}

export async function benchCutover(o: CutoverBenchOptions): Promise<CutoverBenchResult> {
  const common = {
    app: o.app,
    environment: o.environment,
    settings: o.settings,
    scenario: scenarioNamed('healthy'),
    timeScale: o.timeScale,
    ratePerSecond: o.ratePerSecond,
    concurrency: o.concurrency,
    repoRoot: o.repoRoot,
  };
  o.log('(a) blue/green: a new fleet, the health gate, cutover, drain');
  const report = await rehearse({ ...common, workDir: path.join(o.workDir, 'blue-green'), log: (l) => o.log(`  (a) ${l}`) });
  o.log('(b) restart in place: stop the old gunicorn, start the new one');
  const inPlace = await restartInPlace({ ...common, workDir: path.join(o.workDir, 'in-place'), log: (l) => o.log(`  (b) ${l}`) });
  return { blueGreen: report.load, inPlace: inPlace.load, report };
}

/** The side-by-side table. */
export function renderBench(result: CutoverBenchResult): string {
  const row = (name: string, r: LoadResult) =>
    [name.padEnd(28), String(r.sent).padStart(8), String(r.failed).padStart(7), String(r.errorSeconds).padStart(13), `${r.latencyMs.p99} ms`.padStart(10), `${r.latencyMs.max} ms`.padStart(10)].join('  ');
  const kinds = (r: LoadResult) =>
    Object.entries({ ...r.non2xx, ...r.connectionErrors })
      .map(([k, v]) => `${v}× ${k}`)
      .join(', ') || 'none';
  return [
    `${'deploy'.padEnd(28)}  ${'requests'.padStart(8)}  ${'errors'.padStart(7)}  ${'error seconds'.padStart(13)}  ${'p99'.padStart(10)}  ${'max'.padStart(10)}`,
    row('(a) greenlight blue/green', result.blueGreen),
    row('(b) restart in place', result.inPlace),
    '',
    `(a) errors: ${kinds(result.blueGreen)}; gate ${result.report.gate.verdict}: ${result.report.gate.reason}`,
    `(b) errors: ${kinds(result.inPlace)}`,
    '',
  ].join('\n');
}
