// One "instance" on this machine: the image's files under a root directory, laid out as
// packer/scripts/30-release.sh and 40-services.sh do, and the app served by the real nginx and
// gunicorn with the baked site, gunicorn.conf.py and unit command, rewritten by the rehearsal's own
// renderers (lib/rehearsal/instance-files.ts), so both run the AMI's files the same way.
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { gunicornCommand, type InstancePaths, renderNginxMain, renderSite } from '../../lib/rehearsal/instance-files';
import { run, startService, waitFor, type Service } from './processes';

const REPO = join(__dirname, '..', '..');
const FILES = join(REPO, 'packer', 'files');
const APP_SOURCE = join(REPO, 'examples', 'django-app');

export const APP_USER = 'nobody';

export async function layoutImage(root: string, app: string, release: string): Promise<void> {
  const releaseDir = join(root, 'opt', app, 'releases', release);
  mkdirSync(releaseDir, { recursive: true });
  cpSync(APP_SOURCE, join(releaseDir, 'app'), { recursive: true, filter: (src) => !src.includes('__pycache__') });
  const venv = await run('/usr/bin/python3', ['-m', 'venv', '--system-site-packages', '--without-pip', join(releaseDir, 'venv')]);
  if (venv.code !== 0) throw new Error(venv.stderr);
  symlinkSync(join('releases', release), join(root, 'opt', app, 'current'));

  const etc = join(root, 'etc', 'greenlight');
  mkdirSync(join(etc, 'nginx'), { recursive: true });
  writeFileSync(join(etc, 'release'), `APP=${app}\nRELEASE=${release}\n`);
  cpSync(join(FILES, 'gunicorn.conf.py'), join(etc, 'gunicorn.conf.py'));
  for (const f of ['tls-on.conf', 'tls-off.conf']) cpSync(join(FILES, f), join(etc, 'nginx', f));
  symlinkSync('tls-on.conf', join(etc, 'nginx', 'tls.conf'));
  mkdirSync(join(root, 'usr', 'local', 'bin'), { recursive: true });
  cpSync(join(FILES, 'greenlight-config'), join(root, 'usr', 'local', 'bin', 'greenlight-config'));
  for (const dir of ['run/greenlight', 'var/log/nginx', 'var/lib/nginx']) mkdirSync(join(root, dir), { recursive: true });
  // systemd's RuntimeDirectory= gives the app user its socket directory.
  chownSync(join(root, 'run', 'greenlight'), 65534, 65534);
  chmodSync(root, 0o755);
}

/** Where this instance's files live: the image and the instance share one root here. */
export function instancePaths(root: string, address = '127.0.0.1', port = 80): InstancePaths {
  return { root, image: root, address, port, socketPath: `${root}/run/greenlight/gunicorn.sock` };
}

/** The unit's command, as the rehearsal derives it from packer/files/greenlight-app.service. */
export const unitCommand = (root: string, app: string) =>
  gunicornCommand(readFileSync(join(FILES, 'greenlight-app.service'), 'utf8'), app, instancePaths(root));

export async function startGunicorn(root: string, app: string, workers = 2): Promise<Service> {
  const unit = unitCommand(root, app);
  // As the unit does: the app user, the env file, the working directory.
  return startService(
    '/usr/sbin/runuser',
    [
      '-u', APP_USER, '--',
      join(root, 'usr', 'local', 'bin', 'greenlight-config'), 'run', '--env-file', join(root, 'etc', 'greenlight', 'app.env'), '--',
      unit.command, ...unit.args,
    ],
    { cwd: unit.cwd, env: { PATH: '/usr/bin:/bin', ...unit.env, WEB_CONCURRENCY: String(workers) } },
  );
}

/** nginx with the baked site and main config, rendered as the rehearsal renders them. */
export function startNginx(root: string, address: string, port: number): Service {
  const paths = instancePaths(root, address, port);
  const site = join(root, 'etc', 'nginx', 'sites-enabled', 'greenlight');
  mkdirSync(join(root, 'etc', 'nginx', 'sites-enabled'), { recursive: true });
  writeFileSync(site, renderSite(readFileSync(join(FILES, 'nginx-site.conf'), 'utf8'), paths));
  const conf = join(root, 'etc', 'nginx', 'nginx.conf');
  writeFileSync(conf, renderNginxMain(paths, site, undefined));
  return startService('/usr/sbin/nginx', ['-c', conf, '-g', 'daemon off;', '-e', `${root}/var/log/nginx/error.log`]);
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly ms: number;
}

export function get(address: string, port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, method: 'GET', headers, timeout: 15_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: Date.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export async function waitForLiveness(address: string, port: number, host: string): Promise<void> {
  await waitFor(`http://${address}:${port}/healthz/`, async () => (await get(address, port, '/healthz/', { Host: host })).status === 200);
}
