// The migration check on two release images: the live release's python reads its own migration graph
// (what its database has applied), then the new release's python plans its migrate on top of that
// set, each with its own Django, as the releases will run. Nothing connects to a database.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../errors';
import type { ReleaseImage } from '../rehearsal/image';
import { classifyPlan, releaseGraph, type Acknowledgements, type MigrationCheck, type ReleaseGraph } from './classify';

export const MIGRATION_PLAN_SCRIPT = path.join(__dirname, 'migration_plan.py');
/** The script's exit code for a mistake in the app (its settings or migrations), with one line on stderr. */
const APP_MISTAKE = 3;
const TIMEOUT_MS = 120_000;

/** Where a release's python and app are, as the image lays them out. */
export interface ReleaseCode {
  /** What the messages call it, e.g. `the live release (--app examples/v1)`. */
  readonly label: string;
  readonly python: string;
  readonly appDir: string;
  readonly settings: string;
}

export function releaseCode(image: ReleaseImage, label: string): ReleaseCode {
  const releaseDir = path.join(image.root, 'opt', image.app, 'releases', image.release);
  return { label, python: path.join(releaseDir, 'venv', 'bin', 'python'), appDir: path.join(releaseDir, 'app'), settings: image.manifest.settings };
}

/**
 * One release's graph. The app's configuration is in `config` (its settings may require it); a
 * mistake in the settings or the migrations is a UserError of one line naming the release.
 */
export function readGraph(code: ReleaseCode, config: Readonly<Record<string, string>>, applied?: ReleaseGraph['applied']): Promise<ReleaseGraph> {
  const args = [MIGRATION_PLAN_SCRIPT];
  let appliedFile: string | undefined;
  if (applied) {
    appliedFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-migrations-')), 'applied.json');
    fs.writeFileSync(appliedFile, JSON.stringify(applied));
    args.push('--applied', appliedFile);
  }
  const env = { ...config, PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', DJANGO_SETTINGS_MODULE: code.settings, PYTHONDONTWRITEBYTECODE: '1' };
  return new Promise<ReleaseGraph>((resolve, reject) => {
    execFile(code.python, args, { cwd: code.appDir, env, timeout: TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (appliedFile) fs.rmSync(path.dirname(appliedFile), { recursive: true, force: true });
      if (err) {
        const line = stderr.trim().split('\n').filter(Boolean).pop() ?? err.message;
        const mistake = line.replace(/^greenlight-migrations: /, '');
        const hint = mistake.startsWith('the settings') ? "; give the app's configuration with --env-file (NAME=VALUE lines)" : '';
        if (err.code === APP_MISTAKE) reject(new UserError(`${code.label}: ${mistake}${hint}`));
        else reject(new Error(`${code.label}: reading its migrations failed: ${line}`));
        return;
      }
      let document: unknown;
      try {
        document = JSON.parse(stdout);
      } catch {
        reject(new Error(`${code.label}: ${MIGRATION_PLAN_SCRIPT} printed no JSON: ${stdout.trim().slice(0, 200)}`));
        return;
      }
      const parsed = releaseGraph.safeParse(document);
      if (!parsed.success) reject(new Error(`${code.label}: unexpected output from ${MIGRATION_PLAN_SCRIPT}: ${parsed.error.issues[0]?.message}`));
      else resolve(parsed.data);
    });
  });
}

export interface CheckMigrationsProps {
  readonly live: ReleaseCode;
  readonly next: ReleaseCode;
  /** The app's configuration for both (settings often read it at import). */
  readonly config: Readonly<Record<string, string>>;
  /** From the new release's manifest. */
  readonly acknowledgements?: Acknowledgements;
}

/** What the new release's migrate would apply on top of the live release, classified. */
export async function checkMigrations(props: CheckMigrationsProps): Promise<MigrationCheck & { readonly django: { readonly live: string; readonly next: string } }> {
  const live = await readGraph(props.live, props.config);
  const next = await readGraph(props.next, props.config, live.applied);
  return { ...classifyPlan(next, props.acknowledgements), django: { live: live.django, next: next.django } };
}
