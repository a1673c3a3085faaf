// The rehearsal's stand-in for a baked AMI. The release directory is made by the AMI's own
// packer/scripts/30-release.sh (GREENLIGHT_ROOT standing for /): a virtualenv with pip on Debian's
// python3, the app's requirements from its wheels/ and the package index, the static step. The
// helpers, the unit and the nginx site are laid out as 40-services.sh lays them out, rendered from
// the app's manifest by the same helper. An instance launched from the image gets its own copy of
// the image's etc/ and usr/, and shares the release directory.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { loadManifest, type AppManifest } from '../manifest/load';

/** The app user of rehearsal instances: unprivileged, as the AMI's app user. */
export const APP_USER = 'nobody';
const HELPERS = ['greenlight-config', 'greenlight-app', 'greenlight-migrate'] as const;

export interface ReleaseImage {
  readonly app: string;
  readonly release: string;
  /** Root holding opt/<app>, etc/ and usr/ as the AMI holds them under /. */
  readonly root: string;
  readonly manifest: AppManifest;
}

export interface BakeProps {
  readonly dir: string;
  readonly app: string;
  readonly release: string;
  /** The Django project (manage.py and pyproject.toml at its root). */
  readonly appSource: string;
  /** packer/files; the provisioning scripts are in packer/scripts beside it. */
  readonly packerFiles: string;
}

/** The bake of the app failed in one of its steps (requirements, static): a mistake in the app, said in one line. */
export class BakeError extends UserError {
  constructor(
    readonly step: string,
    readonly cause: string,
    /** The whole output of the release script. */
    readonly log: string,
  ) {
    super(`bake failed in step ${step}: ${cause}`);
  }
}

function run(command: string, args: readonly string[], what: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const out = spawnSync(command, [...args], { encoding: 'utf8', ...options });
  if (out.status !== 0) throw new Error(`${what} failed: ${(out.stderr || out.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
  return out.stdout;
}

/** pip's own settings (its index, find-links, cache): the only part of this process's environment the bake sees. */
function pipEnvironment(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('PIP_') && e[1] !== undefined));
}

/** Runs 30-release.sh for the image root; a failed step is a BakeError quoting the script's one line. */
function releaseScript(props: BakeProps): void {
  const script = path.join(props.packerFiles, '..', 'scripts', '30-release.sh');
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
    HOME: process.env.HOME ?? '/root',
    ...pipEnvironment(),
    GREENLIGHT_APP: props.app,
    GREENLIGHT_RELEASE: props.release,
    GREENLIGHT_APP_SOURCE: props.appSource,
    GREENLIGHT_FILES: props.packerFiles,
    GREENLIGHT_ROOT: props.dir,
  };
  const out = spawnSync('bash', [script], { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  const log = `${out.stdout ?? ''}${out.stderr ?? ''}`;
  fs.writeFileSync(path.join(props.dir, 'bake.log'), log);
  if (out.status === 0) return;
  const failed = /^bake failed in step ([^:]+): (.*)$/m.exec(out.stderr ?? '');
  if (failed) throw new BakeError(failed[1], failed[2], log);
  throw new BakeError('release', (out.stderr || out.error?.message || `exit ${out.status}`).trim().split('\n').slice(-1)[0], log);
}

/** Bakes one release; a bad manifest is a UserError naming the field, a failed step a BakeError. */
export function bakeImage(props: BakeProps): ReleaseImage {
  const manifest = loadManifest(props.appSource);
  appUserIds();
  const { root, app, release } = { root: props.dir, ...props };
  const base = path.join(root, 'opt', app);
  fs.mkdirSync(root, { recursive: true });
  releaseScript(props);

  const files = (name: string) => path.join(props.packerFiles, name);
  const etc = path.join(root, 'etc', 'greenlight');
  fs.mkdirSync(path.join(etc, 'nginx'), { recursive: true });
  fs.copyFileSync(files('gunicorn.conf.py'), path.join(etc, 'gunicorn.conf.py'));
  for (const snippet of ['tls-on.conf', 'tls-off.conf']) fs.copyFileSync(files(snippet), path.join(etc, 'nginx', snippet));
  fs.symlinkSync('tls-on.conf', path.join(etc, 'nginx', 'tls.conf'));
  const bin = path.join(root, 'usr', 'local', 'bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const helper of HELPERS) fs.copyFileSync(files(helper), path.join(bin, helper));
  for (const helper of HELPERS) fs.chmodSync(path.join(bin, helper), 0o755);

  const render = (template: string) =>
    run(path.join(bin, 'greenlight-app'), ['render', path.join(base, 'current', 'app'), '--app', app, files(template)], `rendering ${template}`);
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode: 0o644 });
  };
  write(path.join(root, 'etc', 'systemd', 'system', 'greenlight-app.service'), render('greenlight-app.service'));
  write(path.join(root, 'etc', 'nginx', 'sites-available', 'greenlight'), render('nginx-site.conf'));
  return { app, release, root, manifest };
}

const uidOf = (user: string) => Number(run('id', ['-u', user], `id -u ${user}`).trim());
const gidOf = (user: string) => Number(run('id', ['-g', user], `id -g ${user}`).trim());

let ids: { uid: number; gid: number } | undefined;

/** The app user's uid and gid, looked up once: later calls must not block the event loop. */
export function appUserIds(): { uid: number; gid: number } {
  ids ??= { uid: uidOf(APP_USER), gid: gidOf(APP_USER) };
  return ids;
}

/**
 * An instance's root from the image: its own etc/ and usr/ (first boot writes there), the release
 * directory shared through opt/<app>, and systemd's RuntimeDirectory for the app user.
 */
export function launchRoot(image: ReleaseImage, root: string): void {
  fs.mkdirSync(root, { recursive: true });
  fs.chmodSync(root, 0o755);
  for (const dir of ['etc', 'usr']) fs.cpSync(path.join(image.root, dir), path.join(root, dir), { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(path.join(root, 'opt'), { recursive: true });
  fs.symlinkSync(path.join(image.root, 'opt', image.app), path.join(root, 'opt', image.app));
  for (const dir of ['etc/aws', 'run/greenlight', 'var/log/nginx', 'var/lib/nginx']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  const { uid, gid } = appUserIds();
  fs.chownSync(path.join(root, 'run', 'greenlight'), uid, gid);
}

/**
 * The app's configuration off AWS: a fresh SECRET_KEY, a SQLite database in `dbDir` (made writable
 * for the app user), ALLOWED_HOSTS=localhost, and over them what the user gave (`--env-file`). The
 * SQLite URL has four slashes, an absolute path, as dj-database-url reads it (three make it relative).
 */
export function localAppConfig(dbDir: string, given: Readonly<Record<string, string>> = {}): Record<string, string> {
  fs.mkdirSync(dbDir, { recursive: true });
  fs.chownSync(dbDir, appUserIds().uid, appUserIds().gid);
  return { SECRET_KEY: randomBytes(32).toString('base64url'), DATABASE_URL: `sqlite:///${dbDir}/app.sqlite3`, ALLOWED_HOSTS: 'localhost', ...given };
}

/** Points an instance at another release in place (the naive deploy bench:cutover measures). */
export function switchRelease(root: string, image: ReleaseImage): void {
  const link = path.join(root, 'opt', image.app);
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.join(image.root, 'opt', image.app), link);
  const envFile = path.join(root, 'etc', 'greenlight', 'app.env');
  const lines = fs.readFileSync(envFile, 'utf8').split('\n').filter((l) => !l.startsWith('GREENLIGHT_RELEASE='));
  fs.writeFileSync(envFile, [...lines.filter(Boolean), `GREENLIGHT_RELEASE="${image.release}"`, ''].join('\n'));
}
