// `greenlight rehearse`: validates the options, checks prerequisites, reads the environment from
// cdk.json, plays the release and prints the report. Exit code 0 only when the outcome is the
// scenario's expected one and no request failed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSettings } from '../config/load';
import type { EnvironmentSettings, GreenlightSettings } from '../config/schema';
import { UserError } from '../errors';
import { loadManifest } from '../manifest/load';
import { readEnvFile } from './env-file';
import { ensurePrerequisites } from './prerequisites';
import { rehearse } from './release';
import { renderReport } from './report';
import { scenarioNamed } from './scenarios';

/** Raw option values as commander hands them over. */
export interface RehearseCommandOptions {
  readonly env?: string;
  readonly scenario?: string;
  readonly timeScale?: string;
  readonly instances?: string;
  readonly workers?: string;
  readonly rate?: string;
  readonly concurrency?: string;
  readonly port?: string;
  readonly workDir?: string;
  readonly json?: boolean;
  readonly app?: string;
  readonly appGreen?: string;
  readonly envFile?: string;
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** A number option within [min, max]; the error names the flag, echoes the value and gives the range. */
export function numberOption(flag: string, raw: string | undefined, min: number, max: number, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UserError(`${flag} ${JSON.stringify(raw)}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return value;
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

export function readSettings(repoRoot = REPO_ROOT): GreenlightSettings {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return loadSettings(cdkJson.context ?? {}, { projectRoot: repoRoot });
}

export function environmentNamed(settings: GreenlightSettings, name: string): EnvironmentSettings {
  const env = settings.environments[name];
  if (!env) {
    throw new UserError(`--env ${JSON.stringify(name)}: unknown environment; defined in cdk.json: ${Object.keys(settings.environments).join(', ')}`);
  }
  return env;
}

function runDirectory(raw: string | undefined): string {
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

export async function rehearseCommand(raw: RehearseCommandOptions): Promise<number> {
  const envName = raw.env ?? 'staging';
  const scenario = scenarioNamed(raw.scenario ?? 'healthy');
  const settings = readSettings();
  const env = environmentNamed(settings, envName);
  const timeScale = timeScaleFor(raw.timeScale, envName, env);
  if (scenario.greenBreaksAfterCutover && !env.bake) {
    throw new UserError(
      `--scenario ${scenario.name}: environment ${envName} has no bake window, and only a bake catches a release that fails after the cutover; ` +
        'give it one in cdk.json, e.g. "bake": { "duration": 60 }',
    );
  }
  const options = {
    instances: numberOption('--instances', raw.instances, 1, 8, true),
    workers: numberOption('--workers', raw.workers, 1, 16, true),
    ratePerSecond: numberOption('--rate', raw.rate, 1, 2000, false),
    concurrency: numberOption('--concurrency', raw.concurrency, 1, 256, true),
    port: numberOption('--port', raw.port, 1, 65535, true),
    appDir: appDirectory('--app', raw.app),
    appGreenDir: appDirectory('--app-green', raw.appGreen),
    config: readEnvFile(raw.envFile),
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  ensurePrerequisites(scenario.greenDatabaseDown === true, log);
  const workDir = runDirectory(raw.workDir);
  fs.mkdirSync(workDir, { recursive: true });

  const report = await rehearse({
    app: settings.app,
    environment: envName,
    settings: env,
    scenario,
    timeScale,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    workDir,
    repoRoot: REPO_ROOT,
    log,
  });
  process.stdout.write(raw.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  return report.ok ? 0 : 1;
}
