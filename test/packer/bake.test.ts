// The local bake: packer/scripts run for real inside a Debian 12 root filesystem (debootstrap),
// then the image is inspected from inside the chroot.
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = join(__dirname, '..', '..');
const ROOTFS = join(REPO, '.cache', 'bake', 'rootfs');
// Outside the clone, so repeated runs on one machine reuse the debootstrap base and the .debs.
const CACHE = process.env.GREENLIGHT_BAKE_CACHE ?? '/var/cache/greenlight';
const APP = 'greenlight-demo';
const RELEASE = '2026.11.22-3f9c2ab';

const mountsUnder = (dir: string) =>
  readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((mnt) => mnt && (mnt === dir || mnt.startsWith(`${dir}/`)));

function inChroot(cmd: string[], env: Record<string, string> = {}) {
  const out = spawnSync('chroot', [ROOTFS, '/usr/bin/env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...cmd], { encoding: 'utf8', timeout: 60_000 });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr, output: out.stdout + out.stderr };
}

let bakeLog = '';
let bakeSeconds = 0;

beforeAll(async () => {
  const started = Date.now();
  const child = spawn('bash', [join(__dirname, 'bake-chroot.sh'), ROOTFS, CACHE, APP, RELEASE], { cwd: REPO });
  child.stdout.on('data', (d) => (bakeLog += d));
  child.stderr.on('data', (d) => (bakeLog += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  bakeSeconds = (Date.now() - started) / 1000;
  if (code !== 0) throw new Error(`bake failed (${code}):\n${bakeLog.slice(-4000)}`);
}, 900_000);

afterAll(() => {
  // The script unmounts /proc on exit and leaves the root filesystem mounted (an overlay on the cached
  // package layer) for these checks; this unmounts it, and anything a killed run left mounted.
  for (const mnt of mountsUnder(ROOTFS).reverse()) spawnSync('umount', ['-l', mnt]);
});

describe('a local bake into Debian 12', () => {
  it('ran every provisioning script and left nothing mounted inside the root filesystem', () => {
    for (const script of ['10-packages.sh', '20-app-user.sh', '30-release.sh', '40-services.sh', '90-cleanup.sh']) {
      expect(bakeLog).toContain(`bake: provisioning: ${script}`);
    }
    expect(mountsUnder(ROOTFS).filter((mnt) => mnt !== ROOTFS)).toEqual([]);
    expect(readFileSync(join(ROOTFS, 'etc/os-release'), 'utf8')).toMatch(/VERSION_CODENAME=bookworm/);
    console.info(`local bake took ${bakeSeconds.toFixed(0)} s`);
  });

  it('created the app user, not root, without a login shell', () => {
    const passwd = inChroot(['getent', 'passwd', APP]);
    expect(passwd.code).toBe(0);
    const [, , uid, , , home, shell] = passwd.stdout.trim().split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(uid)).toBeLessThan(1000);
    expect(home).toBe(`/opt/${APP}`);
    expect(shell).toBe('/usr/sbin/nologin');
  });

  it('installed the gunicorn unit for the app user, not enabled until first boot', () => {
    const unit = readFileSync(join(ROOTFS, 'etc/systemd/system/greenlight-app.service'), 'utf8');
    expect(unit).not.toContain('@APP@');
    expect(unit).toMatch(new RegExp(`^User=${APP}$`, 'm'));
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -s HUP \$MAINPID$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^EnvironmentFile=\/etc\/greenlight\/app\.env$/m);
    expect(unit).toMatch(
      new RegExp(`^ExecStart=/opt/${APP}/current/venv/bin/python -m gunicorn --config /etc/greenlight/gunicorn.conf.py greenlight_example.wsgi:application$`, 'm'),
    );
    expect(inChroot(['systemctl', 'is-enabled', 'nginx.service']).stdout.trim()).toBe('enabled');
    expect(inChroot(['systemctl', 'is-enabled', 'greenlight-app.service']).stdout.trim()).toBe('disabled');
  });

  it('installed the nginx site as the only site, rendered from the manifest, and nginx -t passes inside the chroot', () => {
    const site = readFileSync(join(ROOTFS, 'etc/nginx/sites-available/greenlight'), 'utf8');
    expect(site.match(/^\s*location = \S+ \{/gm)?.map((l) => l.trim())).toEqual(['location = /health/ {', 'location = /healthz/ {']);
    expect(readdirSync(join(ROOTFS, 'etc/nginx/sites-enabled'))).toEqual(['greenlight']);
    expect(readlinkSync(join(ROOTFS, 'etc/nginx/sites-enabled/greenlight'))).toBe('/etc/nginx/sites-available/greenlight');
    expect(readlinkSync(join(ROOTFS, 'etc/greenlight/nginx/tls.conf'))).toBe('tls-on.conf');
    const test = inChroot(['nginx', '-t']);
    expect(test.output).toContain('test is successful');
    expect(test.code).toBe(0);
  });

  it('installed the first-boot helpers and gunicorn settings', () => {
    for (const helper of ['greenlight-config', 'greenlight-app', 'greenlight-migrate']) {
      expect(lstatSync(join(ROOTFS, 'usr/local/bin', helper)).mode & 0o111).toBeTruthy();
    }
    expect(inChroot(['/usr/local/bin/greenlight-config', '--help']).code).toBe(0);
    // Debian 12's python3 reads the manifest with its own tomllib.
    const manifest = inChroot(['/usr/local/bin/greenlight-app', 'get', `/opt/${APP}/current/app`, 'health-path']);
    expect(manifest.output).toBe('/health/\n');
    const settings = inChroot(['/usr/bin/python3', '-c', 'exec(open("/etc/greenlight/gunicorn.conf.py").read()); print(bind, graceful_timeout, accesslog, errorlog)']);
    expect(settings.stdout.trim()).toBe('unix:/run/greenlight/gunicorn.sock 25 - -');
  });

  it('put the app in a versioned release directory with a working virtualenv', () => {
    expect(readlinkSync(join(ROOTFS, `opt/${APP}/current`))).toBe(`releases/${RELEASE}`);
    expect(readFileSync(join(ROOTFS, 'etc/greenlight/release'), 'utf8')).toBe(`APP=${APP}\nRELEASE=${RELEASE}\n`);
    const venv = `/opt/${APP}/current/venv/bin/python`;
    const imports = inChroot([venv, '-c', 'import sys, django, gunicorn, psycopg2, botocore; print(sys.prefix, django.get_version())']);
    expect(imports.code, imports.output).toBe(0);
    expect(imports.stdout).toMatch(new RegExp(`^/opt/${APP}/current/venv 3\\.2\\.`));
    expect(readFileSync(join(ROOTFS, `opt/${APP}/current/venv/pyvenv.cfg`), 'utf8')).toMatch(/include-system-site-packages = true/);

    const check = inChroot(['/bin/sh', '-c', `cd /opt/${APP}/current/app && ${venv} manage.py check --deploy --fail-level ERROR`], {
      SECRET_KEY: 'bake-check', DATABASE_URL: 'sqlite:///tmp/check.sqlite3',
    });
    expect(check.output).toContain('System check identified');
    expect(check.code, check.output).toBe(0);
  });

  it('keeps the code read-only for the app user, and leaves no package caches', () => {
    const write = inChroot(['runuser', '-u', APP, '--', 'touch', `/opt/${APP}/current/app/manage.py`]);
    expect(write.code).not.toBe(0);
    expect(write.output).toMatch(/Permission denied/);
    expect(readdirSync(join(ROOTFS, 'var/cache/apt/archives')).filter((f) => f.endsWith('.deb'))).toEqual([]);
    expect(readdirSync(join(ROOTFS, 'var/lib/apt/lists'))).toEqual([]);
  });
});
