// First boot, for real: userdata/bootstrap.sh against a fake IMDSv2 and a stub SSM on loopback,
// migrations against Debian's PostgreSQL, then nginx and gunicorn serving the health contract. The
// image, the instance root and the bootstrap's environment come from the rehearsal's own first-boot
// path (lib/rehearsal/image.ts and first-boot.ts); only systemctl differs: it records its calls here.
import { cpSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTANCE_ROLE_KEY, startFakeImds, startStubSsm } from '../../lib/rehearsal/fake-aws';
import { APP_USER, bake, EXAMPLE_APP, get, launch, startGunicorn, startNginx, unitCommand, waitForLiveness } from './instance';
import { BOOTSTRAP_SCRIPT, bootFailure, bootstrapEnvironment } from '../../lib/rehearsal/first-boot';
import type { ReleaseImage } from '../../lib/rehearsal/image';
import { TestPostgres } from './postgres';
import { ephemeralPort } from '../../lib/rehearsal/net';
import { run, type Service } from './processes';

const APP = 'greenlight-demo';
const RELEASE = '2026.11.22-3f9c2ab';
const ADDRESS = '127.0.2.1';
const SECRET = 's3cr3t-"quoted"-$HOME-\\-value';
// The load balancer's default health-check timeout.
const HEALTH_CHECK_TIMEOUT_MS = 5_000;

let work: string;
let image: ReleaseImage;
let pg: TestPostgres;
let imds: Awaited<ReturnType<typeof startFakeImds>>;
let ssm: Awaited<ReturnType<typeof startStubSsm>>;
const services: Service[] = [];

const config = (env: string, values: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      `/greenlight/${APP}/${env}/config/${name}`,
      { value, type: name === 'SECRET_KEY' ? ('SecureString' as const) : ('String' as const) },
    ]),
  );

async function boot(root: string, env: string, overrides: Record<string, string | undefined> = {}) {
  const systemctl = join(root, 'systemctl-calls');
  const fakeSystemctl = join(root, 'fake-systemctl');
  writeFileSync(fakeSystemctl, `#!/bin/sh\necho "$*" >> '${systemctl}'\n`);
  chmodSync(fakeSystemctl, 0o755);
  const vars: Record<string, string | undefined> = {
    ...bootstrapEnvironment({
      root,
      app: APP,
      environment: env,
      release: RELEASE,
      region: 'eu-west-1',
      tls: true,
      appUser: APP_USER,
      imdsUrl: imds.url,
      ssmUrl: ssm.url,
      systemctl: fakeSystemctl,
    }),
    ...overrides,
  };
  const environment = Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const result = await run('/bin/bash', [BOOTSTRAP_SCRIPT], { env: environment });
  const calls = existsSync(systemctl) ? readFileSync(systemctl, 'utf8') : '';
  return { ...result, systemctlCalls: calls };
}

const instance = (name: string, from: ReleaseImage = image) => launch(from, join(work, name));

async function serve(root: string): Promise<number> {
  const port = await ephemeralPort(ADDRESS);
  const gunicorn = await startGunicorn(root, APP);
  const nginx = startNginx(root, ADDRESS, port);
  services.push(gunicorn, nginx);
  const died = (name: string, service: Service) =>
    service.exited.then((code) => Promise.reject(new Error(`${name} exited with ${code}:\n${service.output()}`)));
  await Promise.race([waitForLiveness(ADDRESS, port, ADDRESS), died('gunicorn', gunicorn), died('nginx', nginx)]);
  return port;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'greenlight-boot-'));
  chmodSync(work, 0o755);
  image = bake(join(work, 'image'), APP, RELEASE);
  pg = await TestPostgres.start(work);
  const databaseUrl = pg.createDatabase('greenlight', 'db-password');
  const raceUrl = pg.createDatabase('greenlight_race', 'race-password');
  imds = await startFakeImds({ localIpv4: ADDRESS, instanceId: 'i-0123456789abcdef0' });
  ssm = await startStubSsm({
    ...config('staging', { SECRET_KEY: SECRET, DATABASE_URL: databaseUrl, 'APP/GREETING': "it's here" }),
    ...config('race', { SECRET_KEY: 'race-secret', DATABASE_URL: raceUrl }),
    ...config('broken', { DATABASE_URL: databaseUrl }),
    // Another environment's secrets must not leak into this one.
    ...config('production', { SECRET_KEY: 'production-secret', DATABASE_URL: databaseUrl }),
  });
}, 120_000);

afterAll(async () => {
  for (const service of services.reverse()) await service.stop();
  if (pg) {
    try {
      pg.stopServer();
    } catch {
      // already stopped by a test
    }
  }
  await imds?.close();
  await ssm?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('bootstrap with TLS on, then the health contract over HTTP', () => {
  let root: string;
  let port: number;
  let booted: Awaited<ReturnType<typeof boot>>;

  beforeAll(async () => {
    root = await instance('a');
    booted = await boot(root, 'staging');
    if (booted.code !== 0) throw new Error(`bootstrap failed:\n${booted.stderr}`);
    port = await serve(root);
  }, 120_000);

  const health = (path = '/health/', headers: Record<string, string> = {}) => get(ADDRESS, port, path, { Host: ADDRESS, ...headers });

  it('writes the private IP and instance id from IMDSv2, using a session token', () => {
    expect(readFileSync(join(root, 'etc/aws/ipv4'), 'utf8')).toBe(`${ADDRESS}\n`);
    expect(readFileSync(join(root, 'etc/aws/instance-id'), 'utf8')).toBe('i-0123456789abcdef0\n');
    expect(imds.requests[0]).toBe('PUT /latest/api/token');
  });

  it("loads the environment's SSM config, recursively and decrypted, with the instance role", () => {
    const calls = ssm.requests.filter((r) => r.input.Path === `/greenlight/${APP}/staging/config/`);
    expect(calls.length).toBe(2); // three parameters, pages of two
    for (const call of calls) {
      expect(call.target).toBe('AmazonSSM.GetParametersByPath');
      expect(call.input).toMatchObject({ Recursive: true, WithDecryption: true });
      expect(call.authorization).toContain(`Credential=${INSTANCE_ROLE_KEY}/`);
      expect(call.authorization).toContain('/eu-west-1/ssm/aws4_request');
    }
    expect(calls[1].input.NextToken).toBe('2');
  });

  it('writes an env file only the app user can read, with values intact and no secret in the logs', async () => {
    const envFile = join(root, 'etc/greenlight/app.env');
    const stat = statSync(envFile);
    expect(stat.mode & 0o777).toBe(0o600);
    expect(stat.uid).toBe(65534);
    const contents = readFileSync(envFile, 'utf8');
    expect(contents).not.toContain('production-secret');
    expect(contents).toMatch(/^GREENLIGHT_RELEASE="2026\.11\.22-3f9c2ab"$/m);
    const printed = await run(join(root, 'usr/local/bin/greenlight-config'), ['run', '--env-file', envFile, '--', '/usr/bin/printenv', 'SECRET_KEY', 'APP_GREETING']);
    expect(printed.stdout).toBe(`${SECRET}\nit's here\n`);
    expect(booted.stderr).not.toContain('s3cr3t');
    expect(booted.stderr).toContain('loaded 3 parameters');
    expect(booted.stderr).toMatch(
      /step: migrations[\s\S]*migration lock acquired after [\d.]+s; running manage\.py migrate --no-input[\s\S]*Applying greenlight_example\.0002_greeting_created/,
    );
  });

  it('starts the app and reloads nginx, and switches the TLS redirect on', () => {
    expect(booted.systemctlCalls).toBe('enable --now greenlight-app.service\nreload-or-restart nginx.service\n');
    expect(readlinkSync(join(root, 'etc/greenlight/nginx/tls.conf'))).toBe('tls-on.conf');
  });

  it('runs the same command as the systemd unit rendered from the manifest', () => {
    const { command, args, cwd, env } = unitCommand(root, APP);
    expect([command, ...args]).toEqual([
      `${root}/opt/${APP}/current/venv/bin/python`, '-m', 'gunicorn', '--config', `${root}/etc/greenlight/gunicorn.conf.py`,
      '--bind', `unix:${root}/run/greenlight/gunicorn.sock`, 'greenlight_example.wsgi:application',
    ]);
    expect(cwd).toBe(`${root}/opt/${APP}/current/app`);
    expect(env).toMatchObject({ DJANGO_SETTINGS_MODULE: 'greenlight_example.settings', GREENLIGHT_IPV4_FILE: `${root}/etc/aws/ipv4` });
  });

  it('/health/ is 200 with Host = the instance IP and no X-Forwarded-Proto, not redirected', async () => {
    const reply = await health();
    expect(reply.status).toBe(200);
    expect(reply.headers.location).toBeUndefined();
    expect(JSON.parse(reply.body)).toEqual({ status: 'ok' });
    // ...and it is logged to its own file, not the main access log. nginx logs after it has
    // answered, so the line can land a moment after the reply.
    await expect
      .poll(() => readFileSync(join(root, 'var/log/nginx/greenlight-health.log'), 'utf8'), { timeout: 3000, interval: 50 })
      .toContain('GET /health/ HTTP/1.1" 200');
  });

  it('/ is redirected to https without X-Forwarded-Proto, and served with it', async () => {
    const plain = await health('/');
    expect(plain.status).toBe(301);
    expect(plain.headers.location).toBe(`https://${ADDRESS}/`);
    const forwarded = await health('/', { 'X-Forwarded-Proto': 'https' });
    expect(forwarded.status).toBe(200);
    expect(forwarded.body).toContain(`Release <code>${RELEASE}</code>`);
    expect(readFileSync(join(root, 'var/log/nginx/greenlight-access.log'), 'utf8')).not.toContain('/health/');
  });

  it('/health without the slash is not 200 (the trailing-slash trap)', async () => {
    expect((await health('/health')).status).not.toBe(200);
    expect((await health('/health', { 'X-Forwarded-Proto': 'https' })).status).toBe(301);
  });

  it('a Host the app does not allow gets 400 from the health check', async () => {
    expect((await health('/health/', { Host: 'not-allowed.example' })).status).toBe(400);
  });

  it('/health/ is 503 while a migration is unapplied', async () => {
    const manage = (...args: string[]) =>
      run('/usr/sbin/runuser', ['-u', APP_USER, '--', join(root, 'usr/local/bin/greenlight-config'), 'run', '--env-file', join(root, 'etc/greenlight/app.env'), '--',
        join(root, `opt/${APP}/current/venv/bin/python`), ...args], {
        cwd: join(root, `opt/${APP}/current/app`),
        env: { PATH: '/usr/bin:/bin', GREENLIGHT_IPV4_FILE: join(root, 'etc/aws/ipv4'), DJANGO_SETTINGS_MODULE: 'greenlight_example.settings' },
      });
    const back = await manage('manage.py', 'migrate', 'greenlight_example', '0001', '--no-color');
    expect(back.code, back.stderr).toBe(0);
    const reply = await health();
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body)).toEqual({ status: 'fail', check: 'migrations', detail: 'default: 1 unapplied' });
    // The baked lock runner around the app's own command, as first boot runs it.
    const forward = await manage(join(root, 'usr/local/bin/greenlight-migrate'), '--', 'manage.py', 'migrate', '--no-input');
    expect(forward.code, forward.stderr).toBe(0);
    expect((await health()).status).toBe(200);
  });

  it('/health/ is 503 within the health-check timeout when PostgreSQL is stopped; liveness stays 200', async () => {
    pg.stopServer();
    try {
      const reply = await health();
      expect(reply.status).toBe(503);
      expect(JSON.parse(reply.body)).toEqual({ status: 'fail', check: 'database', detail: 'default: OperationalError' });
      expect(reply.ms).toBeLessThan(HEALTH_CHECK_TIMEOUT_MS);
      expect((await health('/healthz/')).status).toBe(200);
    } finally {
      pg.startServer();
    }
    expect((await health()).status).toBe(200);
  });
});

describe('bootstrap failures keep the instance unhealthy', () => {
  it('fails before migrations, naming SECRET_KEY, when required configuration is missing; gunicorn refuses to start too', async () => {
    const root = await instance('broken');
    const booted = await boot(root, 'broken');
    expect(booted.code).not.toBe(0);
    expect(bootFailure(booted.stderr)).toEqual({
      step: 'required configuration',
      cause: `greenlight-config: required configuration missing: SECRET_KEY (the app's manifest requires it; none in SSM /greenlight/${APP}/broken/config/)`,
    });
    expect(booted.stderr).not.toContain('step: migrations');
    expect(booted.systemctlCalls).toBe('');

    const gunicorn = await startGunicorn(root, APP, 1);
    services.push(gunicorn);
    const code = await Promise.race([gunicorn.exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    expect(code).not.toBe(0);
    expect(code).not.toBe('still running');
    expect(gunicorn.output()).toContain('SECRET_KEY is not set');
  }, 90_000);

  it('fails clearly when a parameter is missing or invalid', async () => {
    const root = await instance('unset');
    const missing = await boot(root, 'staging', { GREENLIGHT_TLS: undefined });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('GREENLIGHT_TLS is not set; expected true or false');
    const bad = await boot(root, 'staging', { GREENLIGHT_RELEASE: 'x/../../etc' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("GREENLIGHT_RELEASE='x/../../etc' is not valid");
  });

  it("reports a failed migrate command by its cause, not by the usage line Django prints after it", async () => {
    // An app that still names a migrate command it does not have.
    const source = join(work, 'app-old-command');
    cpSync(EXAMPLE_APP, source, { recursive: true });
    const manifest = join(source, 'pyproject.toml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('migrate = ["manage.py", "migrate", "--no-input"]', 'migrate = ["manage.py", "migrate_locked"]'));
    const root = instance('old-command', bake(join(work, 'image-old-command'), APP, RELEASE, source));
    const booted = await boot(root, 'staging');
    expect(booted.code).not.toBe(0);
    expect(booted.stderr).toContain("Type 'manage.py help' for usage.");
    expect(bootFailure(booted.stderr)).toEqual({ step: 'migrations', cause: "Unknown command: 'migrate_locked'. Did you mean migrate?" });
  });

  it('stops at the manifest, naming the file and field, before it touches anything', async () => {
    const source = join(work, 'app-bad-manifest');
    cpSync(EXAMPLE_APP, source, { recursive: true });
    const root = instance('bad-manifest', bake(join(work, 'image-bad-manifest'), APP, RELEASE, source));
    const manifest = join(root, `opt/${APP}/current/app/pyproject.toml`);
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('health-path = "/health/"', 'health-path = "health"'));
    const booted = await boot(root, 'staging');
    expect(bootFailure(booted.stderr)).toEqual({
      step: 'application manifest',
      cause: `${manifest}: [tool.greenlight] health-path: received "health"; expected an absolute URL path such as /health/ (letters, digits, . _ ~ - /)`,
    });
    expect(existsSync(join(root, 'etc/aws/ipv4'))).toBe(false);
  });

  it('refuses an AMI baked for another release', async () => {
    const root = await instance('other-release');
    const booted = await boot(root, 'staging', { GREENLIGHT_RELEASE: '2026.12.01-0000000' });
    expect(booted.code).not.toBe(0);
    expect(booted.stderr).toContain(`this AMI was baked for release '${RELEASE}', not '2026.12.01-0000000'`);
  });
});

describe('several instances booting at once', () => {
  it('migrate one at a time under the advisory lock, and serve without the redirect when TLS is off', async () => {
    const roots = await Promise.all(['race-1', 'race-2', 'race-3'].map((n) => instance(n)));
    const results = await Promise.all(roots.map((root) => boot(root, 'race', { GREENLIGHT_TLS: 'false' })));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    const applied = results.filter((r) => r.stderr.includes('Applying greenlight_example.0001_initial'));
    expect(applied).toHaveLength(1);
    expect(pg.sql("SELECT count(*) FROM django_migrations WHERE app = 'greenlight_example'", 'greenlight_race')).toBe('2\n');

    expect(readlinkSync(join(roots[0], 'etc/greenlight/nginx/tls.conf'))).toBe('tls-off.conf');
    const port = await serve(roots[0]);
    const home = await get(ADDRESS, port, '/', { Host: ADDRESS });
    expect(home.status).toBe(200);
    expect((await get(ADDRESS, port, '/health/', { Host: ADDRESS })).status).toBe(200);
    // With TLS off, `/health` reaches Django, whose APPEND_SLASH answers 301: still not a 200.
    const noSlash = await get(ADDRESS, port, '/health', { Host: ADDRESS });
    expect(noSlash.status).toBe(301);
    expect(noSlash.headers.location).toMatch(/\/health\/$/);
  }, 120_000);
});
