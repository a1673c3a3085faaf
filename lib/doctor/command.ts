// `greenlight doctor --app DIR`: checks the options, boots the app once and prints the pass/fail
// table. Exit code 0 only when every check passes; 1 when one fails; 2 for a usage mistake.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { environmentNamed, readProjectConfig } from '../config/project';
import { UserError } from '../errors';
import { appDirectory, REPO_ROOT } from '../rehearsal/options';
import { readEnvFile } from '../rehearsal/env-file';
import { ensurePrerequisites } from '../rehearsal/prerequisites';
import { passed, renderTable } from './checks';
import { doctor } from './run';

export interface DoctorCommandOptions {
  readonly app?: string;
  readonly liveApp?: string;
  readonly env?: string;
  readonly envFile?: string;
  readonly json?: boolean;
}

export async function doctorCommand(raw: DoctorCommandOptions): Promise<number> {
  if (raw.app === undefined) throw new UserError('--app is required: the Django project directory to check');
  const appDir = appDirectory('--app', raw.app) as string;
  const liveAppDir = appDirectory('--live-app', raw.liveApp);
  const envName = raw.env ?? 'staging';
  const settings = readProjectConfig(REPO_ROOT);
  const env = environmentNamed(settings, envName);
  const config = readEnvFile(raw.envFile);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // The app's PostgreSQL, unless --env-file names its database.
  ensurePrerequisites(config?.DATABASE_URL === undefined, log);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-doctor-'));
  const rows = await doctor({ app: settings.app, appDir, ...(liveAppDir ? { liveAppDir } : {}), environment: envName, settings: env, ...(config ? { config } : {}), repoRoot: REPO_ROOT, workDir, log });
  const ok = passed(rows);
  process.stdout.write(raw.json ? `${JSON.stringify({ ok, checks: rows }, null, 2)}\n` : renderTable(rows));
  // The logs explain a failure; a clean run leaves nothing behind.
  if (ok) fs.rmSync(workDir, { recursive: true, force: true });
  else {
    // The logs stay for the failure; the release images (a virtualenv each) go.
    for (const image of ['image', 'live-image']) fs.rmSync(path.join(workDir, image, 'opt'), { recursive: true, force: true });
    log(`logs: ${workDir}`);
  }
  return ok ? 0 : 1;
}
