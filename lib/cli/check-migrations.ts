// `greenlight check-migrations --app <old> --app-green <new>`: bakes both projects as release images
// (each with its own python and Django, as it will run) and refuses the pair when the new release's
// migrations break the old one while it still serves. Exit 0 when nothing breaks it, 1 when
// something does, 2 for a usage mistake (a missing app, settings that do not load).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { MigrationCheck } from '../migrations/classify';
import { checkMigrations, releaseCode } from '../migrations/check';
import { renderCheck } from '../migrations/render';
import { readEnvFile } from '../rehearsal/env-file';
import { bakeImage } from '../rehearsal/image';
import { appDirectory, REPO_ROOT } from '../rehearsal/options';

export interface CheckMigrationsCommandOptions {
  readonly app?: string;
  readonly appGreen?: string;
  readonly envFile?: string;
  readonly json?: boolean;
}

/** The release images' app name: only the layout under opt/ uses it. */
const IMAGE_APP = 'migration-check';

/** Bakes `liveDir` and `nextDir` in a directory of their own, checks the pair and removes it again. */
export async function checkProjectMigrations(liveDir: string, nextDir: string, given: Readonly<Record<string, string>> = {}): Promise<MigrationCheck> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-check-migrations-'));
  try {
    fs.chmodSync(workDir, 0o755);
    const bake = (release: string, appSource: string) =>
      bakeImage({ dir: path.join(workDir, release), app: IMAGE_APP, release, appSource, packerFiles: path.join(REPO_ROOT, 'packer', 'files') });
    const live = bake('live', liveDir);
    const next = bake('next', nextDir);
    return await checkMigrations({
      live: releaseCode(live, `the live release (${liveDir})`),
      next: releaseCode(next, `the new release (${nextDir})`),
      // Settings often read these at import; nothing connects to the database.
      config: { SECRET_KEY: randomBytes(32).toString('base64url'), DATABASE_URL: `sqlite:///${path.join(workDir, 'unused.sqlite3')}`, ALLOWED_HOSTS: 'localhost', ...given },
      acknowledgements: next.manifest.acceptBreakingMigrations,
    });
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

export async function checkMigrationsCommand(raw: CheckMigrationsCommandOptions, out: (text: string) => void): Promise<number> {
  if (raw.app === undefined) throw new UserError('--app is required: the Django project of the live release');
  if (raw.appGreen === undefined) throw new UserError('--app-green is required: the Django project of the new release');
  const liveDir = appDirectory('--app', raw.app) as string;
  const nextDir = appDirectory('--app-green', raw.appGreen) as string;
  const check = await checkProjectMigrations(liveDir, nextDir, readEnvFile(raw.envFile) ?? {});
  out(raw.json ? `${JSON.stringify(check, null, 2)}\n` : renderCheck(check));
  return check.verdict === 'pass' ? 0 : 1;
}
