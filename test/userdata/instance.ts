// One "instance" on this machine: the image's files under a root directory, laid out as
// packer/scripts/30-release.sh and 40-services.sh do, and the app served by the real nginx and
// gunicorn with the baked site, gunicorn.conf.py and unit command, rewritten only where
// packer/files/nginx-site.conf says a local run may (listen address, socket, logs, TLS include).
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
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

/** The unit's ExecStart and Environment= lines with @APP@ filled in and paths moved under root. */
export function unitCommand(root: string, app: string): { argv: string[]; env: Record<string, string> } {
  const unit = readFileSync(join(FILES, 'greenlight-app.service'), 'utf8').replaceAll('@APP@', app);
  const under = (value: string) => value.replace(/(^|=)\/(opt|etc)\//g, `$1${root}/$2/`);
  const exec = /^ExecStart=(.+)$/m.exec(unit)![1];
  const env: Record<string, string> = {};
  for (const [, assignment] of unit.matchAll(/^Environment=(\S+)$/gm)) {
    const [name, value] = assignment.split('=');
    env[name] = under(value);
  }
  return { argv: exec.split(' ').map((arg) => under(arg)), env };
}

export async function startGunicorn(root: string, app: string, workers = 2): Promise<Service> {
  const { argv, env } = unitCommand(root, app);
  const socket = join(root, 'run', 'greenlight', 'gunicorn.sock');
  // As the unit does: the app user, the env file, the working directory.
  return startService(
    '/usr/sbin/runuser',
    [
      '-u', APP_USER, '--',
      join(root, 'usr', 'local', 'bin', 'greenlight-config'), 'run', '--env-file', join(root, 'etc', 'greenlight', 'app.env'), '--',
      ...argv, '--bind', `unix:${socket}`,
    ],
    {
      cwd: join(root, 'opt', app, 'current', 'app'),
      env: { PATH: '/usr/bin:/bin', ...env, WEB_CONCURRENCY: String(workers) },
    },
  );
}

/** The baked nginx site with the documented substitutions; throws if one no longer matches. */
export function renderSite(root: string, listen: string): string {
  let site = readFileSync(join(FILES, 'nginx-site.conf'), 'utf8');
  const substitutions: Array<[string, string]> = [
    ['listen 80 default_server;', `listen ${listen} default_server;`],
    ['unix:/run/greenlight/gunicorn.sock:', `unix:${root}/run/greenlight/gunicorn.sock:`],
    ['/var/log/nginx/', `${root}/var/log/nginx/`],
    ['include /etc/greenlight/nginx/tls.conf;', `include ${root}/etc/greenlight/nginx/tls.conf;`],
  ];
  for (const [from, to] of substitutions) {
    const body = site.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    if (!body.includes(from)) throw new Error(`nginx-site.conf no longer contains "${from}"`);
    site = site.split('\n').map((l) => (l.startsWith('#') ? l : l.replaceAll(from, to))).join('\n');
  }
  return site;
}

export function startNginx(root: string, listen: string): Service {
  const site = join(root, 'etc', 'nginx', 'sites-enabled', 'greenlight');
  mkdirSync(join(root, 'etc', 'nginx', 'sites-enabled'), { recursive: true });
  writeFileSync(site, renderSite(root, listen));
  const lib = join(root, 'var', 'lib', 'nginx');
  const conf = join(root, 'etc', 'nginx', 'nginx.conf');
  writeFileSync(
    conf,
    [
      'daemon off;',
      'worker_processes 1;',
      `pid ${root}/run/nginx.pid;`,
      `error_log ${root}/var/log/nginx/error.log;`,
      'events { worker_connections 64; }',
      'http {',
      '  include /etc/nginx/mime.types;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${lib}/${t};`),
      `  include ${site};`,
      '}',
      '',
    ].join('\n'),
  );
  return startService('/usr/sbin/nginx', ['-c', conf, '-e', `${root}/var/log/nginx/error.log`]);
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
