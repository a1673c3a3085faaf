// `greenlight rehearse`'s option values, checked before anything starts: each error names the
// option, echoes the value and says what is allowed. Commander declares the options (bin/greenlight.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EnvironmentSettings } from '../config/schema';
import { UserError } from '../errors';
import { loadManifest } from '../manifest/load';
import { numberOption } from '../options';
import { readEnvFile } from './env-file';
import type { RehearsalOptions } from './release';
import { scenarioNamed } from './scenarios';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Raw option values as commander hands them over. */
export interface RehearseCommandOptions {
  readonly env?: string;
  readonly scenario?: string;
  readonly timeScale?: string;
  readonly instances?: string;
  readonly workers?: string;
  readonly rate?: string;
  readonly concurrency?: string;
  readonly loadPaths?: string;
  readonly port?: string;
  readonly workDir?: string;
  readonly json?: boolean;
  readonly app?: string;
  readonly appGreen?: string;
  readonly envFile?: string;
  readonly ignoreMigrationCheck?: boolean;
}

/** Scaled health checks faster than this leave no room for a real request through nginx and Django. */
const MIN_SCALED_INTERVAL_MS = 100;
const MIN_SCALED_TIMEOUT_MS = 50;

/** The time scale, checked against the environment: the scaled check must stay realistic. */
export function timeScaleFor(raw: string | undefined, envName: string, env: EnvironmentSettings): number {
  const scale = numberOption('--time-scale', raw, 0.001, 1, false) ?? 1;
  const { interval, timeout } = env.healthCheck;
  const minimum = Math.max(MIN_SCALED_INTERVAL_MS / (interval * 1000), MIN_SCALED_TIMEOUT_MS / (timeout * 1000));
  if (scale < minimum) {
    throw new UserError(
      `--time-scale ${scale}: too small for environment ${envName} (interval ${interval}s, timeout ${timeout}s); ` +
        `the scaled check needs at least ${MIN_SCALED_INTERVAL_MS} ms interval and ${MIN_SCALED_TIMEOUT_MS} ms timeout, so use ${Math.ceil(minimum * 1000) / 1000} or more`,
    );
  }
  return scale;
}

/** `--work-dir`: a new or empty directory; by default a fresh one under .rehearsal/. */
export function runDirectory(raw: string | undefined): string {
  if (raw !== undefined) {
    const dir = path.resolve(raw);
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      throw new UserError(`--work-dir ${JSON.stringify(raw)}: ${dir} is not empty; give a new or empty directory`);
    }
    return dir;
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return path.join(REPO_ROOT, '.rehearsal', `${stamp}-${process.pid}`);
}

/** Default run directories kept under .rehearsal/: each holds two release images and every instance's logs. */
export const KEPT_RUNS = 5;

/**
 * Removes default run directories beyond the newest `keep` (their names sort by start time), but
 * none touched in the last hour, which may belong to a run still going. Returns how many went.
 */
export function pruneRuns(parent: string, keep = KEPT_RUNS, now = Date.now()): number {
  if (!fs.existsSync(parent)) return 0;
  const runs = fs
    .readdirSync(parent, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d{8}-\d{6}-\d+$/.test(e.name))
    .map((e) => e.name)
    .sort();
  let removed = 0;
  for (const name of runs.slice(0, Math.max(0, runs.length - keep))) {
    const dir = path.join(parent, name);
    if (now - fs.statSync(dir).mtimeMs < 60 * 60_000) continue;
    fs.rmSync(dir, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

/** `--app DIR`: a Django project with its manifest; its errors name the flag and the directory. */
export function appDirectory(flag: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const dir = path.resolve(raw);
  if (!fs.existsSync(path.join(dir, 'manage.py'))) {
    throw new UserError(`${flag} ${JSON.stringify(raw)}: ${dir} has no manage.py; expected a Django project directory`);
  }
  loadManifest(dir);
  return dir;
}

/** `--load-paths /,/catalog/`: 1 to 20 absolute paths (a query string allowed), separated by commas. */
export function loadPathsOption(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const paths = raw.split(',').map((p) => p.trim());
  const bad = paths.find((p) => !/^\/[^\s,]*$/.test(p));
  if (bad !== undefined || paths.length > 20) {
    throw new UserError(
      `--load-paths ${JSON.stringify(raw)}: ${bad !== undefined ? `${JSON.stringify(bad)} is not an absolute path` : `${paths.length} paths`}; expected 1 to 20 absolute paths separated by commas, e.g. /,/catalog/`,
    );
  }
  return paths;
}

/** Every option but `--env`, `--work-dir` and `--json`, checked; the numbers not given stay undefined. */
export type RehearseOptions = Pick<
  RehearsalOptions,
  'scenario' | 'timeScale' | 'instances' | 'workers' | 'ratePerSecond' | 'concurrency' | 'loadPaths' | 'port' | 'appDir' | 'appGreenDir' | 'config' | 'ignoreMigrationCheck'
>;

/** Checks the options against the environment they rehearse. */
export function checkRehearseOptions(raw: RehearseCommandOptions, envName: string, env: EnvironmentSettings): RehearseOptions {
  const scenario = scenarioNamed(raw.scenario ?? 'healthy');
  const timeScale = timeScaleFor(raw.timeScale, envName, env);
  if (scenario.greenBreaksAfterCutover && !env.bake && !env.traffic) {
    throw new UserError(
      `--scenario ${scenario.name}: environment ${envName} has no bake window and no traffic steps, and only they catch a release that fails once it serves; ` +
        'give it one in cdk.json, e.g. "bake": { "duration": 60 } or "traffic": { "steps": [10] }',
    );
  }
  if (scenario.greenSlowPagesMs !== undefined && !env.traffic) {
    throw new UserError(
      `--scenario ${scenario.name}: environment ${envName} has no traffic steps, and only they compare the new release's latency with the live one's; ` +
        'give it some in cdk.json, e.g. "traffic": { "steps": [10] }',
    );
  }
  if (scenario.greenDropsAColumn && raw.app !== undefined && raw.appGreen === undefined) {
    throw new UserError(
      `--scenario ${scenario.name}: give --app-green, a new release of ${raw.app} whose migration drops a column the live release reads; ` +
        'greenlight derives one only for the reference app (no --app)',
    );
  }
  return {
    scenario,
    timeScale,
    instances: numberOption('--instances', raw.instances, 1, 8, true),
    workers: numberOption('--workers', raw.workers, 1, 16, true),
    ratePerSecond: numberOption('--rate', raw.rate, 1, 2000, false),
    concurrency: numberOption('--concurrency', raw.concurrency, 1, 256, true),
    loadPaths: loadPathsOption(raw.loadPaths),
    port: numberOption('--port', raw.port, 1, 65535, true),
    appDir: appDirectory('--app', raw.app),
    appGreenDir: appDirectory('--app-green', raw.appGreen),
    config: readEnvFile(raw.envFile),
    ignoreMigrationCheck: raw.ignoreMigrationCheck === true ? true : undefined,
  };
}
