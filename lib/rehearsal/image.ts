// The rehearsal's stand-in for a baked AMI, laid out as packer/scripts/30-release.sh and
// 40-services.sh lay out the image: the release directory with its virtualenv, the helpers, and the
// unit and nginx site rendered from the app's manifest by the same helper the bake runs. An instance
// launched from it gets its own copy of the image's etc/ and usr/, and shares the release directory.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
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
  /** packer/files. */
  readonly packerFiles: string;
}

function run(command: string, args: readonly string[], what: string, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const out = spawnSync(command, [...args], { encoding: 'utf8', ...options });
  if (out.status !== 0) throw new Error(`${what} failed: ${(out.stderr || out.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
  return out.stdout;
}

/** Bakes one release; a bad manifest is a UserError naming the field. */
export function bakeImage(props: BakeProps): ReleaseImage {
  const manifest = loadManifest(props.appSource);
  appUserIds();
  const { root, app, release } = { root: props.dir, ...props };
  const base = path.join(root, 'opt', app);
  const releaseDir = path.join(base, 'releases', release);
  const appDir = path.join(releaseDir, 'app');
  fs.mkdirSync(releaseDir, { recursive: true });
  fs.cpSync(props.appSource, appDir, { recursive: true, filter: (src) => path.basename(src) !== '__pycache__' });
  // Debian's python3 with system site packages, as on the AMI; its packages meet the requirements.
  run('/usr/bin/python3', ['-m', 'venv', '--without-pip', '--system-site-packages', path.join(releaseDir, 'venv')], 'creating the release virtualenv');
  if (manifest.static) {
    const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', GREENLIGHT_BAKE: '1', DJANGO_SETTINGS_MODULE: manifest.settings };
    run(path.join(releaseDir, 'venv', 'bin', 'python'), manifest.static, `the static step (${manifest.static.join(' ')})`, { cwd: appDir, env });
  }
  fs.symlinkSync(path.join('releases', release), path.join(base, 'current'));

  const files = (name: string) => path.join(props.packerFiles, name);
  const etc = path.join(root, 'etc', 'greenlight');
  fs.mkdirSync(path.join(etc, 'nginx'), { recursive: true });
  fs.writeFileSync(path.join(etc, 'release'), `APP=${app}\nRELEASE=${release}\n`);
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
 * for the app user), ALLOWED_HOSTS=localhost, and over them what the user gave (`--env-file`).
 */
export function localAppConfig(dbDir: string, given: Readonly<Record<string, string>> = {}): Record<string, string> {
  fs.mkdirSync(dbDir, { recursive: true });
  fs.chownSync(dbDir, appUserIds().uid, appUserIds().gid);
  return { SECRET_KEY: randomBytes(32).toString('base64url'), DATABASE_URL: `sqlite://${dbDir}/app.sqlite3`, ALLOWED_HOSTS: 'localhost', ...given };
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
