// One "instance" on this machine: launched from a release image baked by the rehearsal's own bake
// (lib/rehearsal/image.ts, the layout of packer/scripts), and served by the real nginx and gunicorn
// with the baked site, gunicorn.conf.py and unit, rewritten by the rehearsal's renderers
// (lib/rehearsal/instance-files.ts), so both run the AMI's files the same way.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { APP_USER, bakeImage, launchRoot, type ReleaseImage } from '../../lib/rehearsal/image';
import { gunicornCommand, type InstancePaths, renderNginxMain, renderSite } from '../../lib/rehearsal/instance-files';
import { startService, waitFor, type Service } from './processes';

const REPO = join(__dirname, '..', '..');
export const EXAMPLE_APP = join(REPO, 'examples', 'django-app');

export { APP_USER };

/** A release image of `appSource` under `dir`. */
export function bake(dir: string, app: string, release: string, appSource = EXAMPLE_APP): ReleaseImage {
  return bakeImage({ dir, app, release, appSource, packerFiles: join(REPO, 'packer', 'files') });
}

/** An instance root launched from the image, as the rehearsal launches one. */
export function launch(image: ReleaseImage, root: string): string {
  launchRoot(image, root);
  return root;
}

/** Where this instance's files live: everything of the AMI is below its root. */
export function instancePaths(root: string, address = '127.0.0.1', port = 80): InstancePaths {
  return { root, image: root, address, port, socketPath: `${root}/run/greenlight/gunicorn.sock` };
}

/** The baked unit's command, as the rehearsal derives it from the instance's greenlight-app.service. */
export const unitCommand = (root: string, app: string) =>
  gunicornCommand(readFileSync(join(root, 'etc', 'systemd', 'system', 'greenlight-app.service'), 'utf8'), app, instancePaths(root));

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
  writeFileSync(site, renderSite(readFileSync(join(root, 'etc', 'nginx', 'sites-available', 'greenlight'), 'utf8'), paths));
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
