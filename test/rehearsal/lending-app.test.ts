// A Django 5 project of the kind tutorials teach, on packages Debian 12 lacks (shipped in its wheels/),
// with a redirecting home page, dj-database-url, python-dotenv, its own secret name and greenlight's
// health middleware: doctor passes it, a v1 -> v2 rehearsal through the CLI goes live without one
// failed request, and doctor fails the builds that break the contract, each with its cause.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { CHECKS, type CheckRow } from '../../lib/doctor/checks';
import { doctor } from '../../lib/doctor/run';
import { cli } from '../helpers/cli';
import { minimalEnvironment, REPO_ROOT } from '../helpers/settings';
import { LENDING_REQUIREMENTS, writeLending, type LendingOptions } from './lending-app';
import { downloadWheels } from './wheels';

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

let wheels = '';
beforeAll(() => {
  wheels = path.join(tempDir('gl-wheels-'), 'wheels');
  downloadWheels(wheels, LENDING_REQUIREMENTS);
}, 120_000);

const lending = (o: Omit<LendingOptions, 'wheels'>) => writeLending(path.join(tempDir('lending-'), 'lending'), { ...o, wheels });
const SECRET = { DJANGO_SECRET_KEY: 'rehearsal-only-secret' };

const environment = () =>
  loadSettings({
    app: 'lending',
    environments: {
      rehearsal: {
        ...minimalEnvironment(),
        healthCheck: { path: '/health/', interval: 5, timeout: 4, healthyThreshold: 2, unhealthyThreshold: 10, matcher: '200' },
        smoke: { paths: ['/', '/catalog/'], expectedStatuses: '200', timeout: 10 },
      },
    },
  }).environments.rehearsal;

let address = 10;
const check = (o: Omit<LendingOptions, 'wheels'>) =>
  doctor({
    app: 'lending',
    appDir: lending(o),
    environment: 'rehearsal',
    settings: environment(),
    config: SECRET,
    repoRoot: REPO_ROOT,
    workDir: tempDir('gl-doctor-'),
    address: `127.0.3.${++address}`,
  });
const failing = (rows: readonly CheckRow[]) => rows.filter((r) => r.status !== 'pass').map((r) => r.check).sort();
const row = (rows: readonly CheckRow[], name: string) => rows.find((r) => r.check === name);

describe('a Django 5 project on wheels, with a redirecting home page', () => {
  it('goes live from v1 to v2 through the CLI with 0 failed requests, the redirects counted as served', async () => {
    const envFile = path.join(tempDir('gl-env-'), 'lending.env');
    fs.writeFileSync(envFile, `DJANGO_SECRET_KEY=${SECRET.DJANGO_SECRET_KEY}\n`);
    const workDir = path.join(tempDir('gl-lending-'), 'run');
    const apps = ['--app', lending({ version: 1 }), '--app-green', lending({ version: 2 }), '--env-file', envFile];
    const light = ['--instances', '1', '--workers', '1', '--time-scale', '0.05', '--rate', '40', '--concurrency', '4'];
    const run = await cli(['rehearse', ...apps, ...light, '--work-dir', workDir], {}, 170_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = run.stdout;
    expect(report).toMatch(/^failed requests 0 of [1-9]\d+$/m);
    // staging's smoke path is /: the load asks for it, gets the redirect, and counts it served.
    expect(report).toMatch(/^ {2}requested +GET \/$/m);
    expect(report).toMatch(/^ {2}served +(\d+) \(\1 redirects: \1× 301\)$/m);
    // The smoke check followed the redirect to the catalog, through the preview route, to green.
    expect(report).toMatch(/^ {2}GET \/ -> \/catalog\/ +200 from release-rehearsal-b\/green-1$/m);
    expect(report).toMatch(/^release +live$/m);
    const log = fs.readFileSync(path.join(workDir, 'green-1', 'var/log/bootstrap.log'), 'utf8');
    expect(log).toContain('Applying catalog.0002_book_isbn... OK');
  }, 200_000);

  it('passes doctor, and fails the builds that break the contract, each with its cause', async () => {
    const [good, homeRaises, noHostCheck, staticFails] = await Promise.all([
      check({ version: 2 }),
      check({ version: 2, homeRaises: true }),
      check({ version: 2, noHostCheck: true }),
      check({ version: 2, staticFails: true }),
    ]);
    expect(failing(good), JSON.stringify(good, null, 1)).toEqual([]);
    expect(row(good, CHECKS.pages)?.detail).toBe('GET / -> /catalog/ -> 200; GET /catalog/ -> 200');

    // The page behind the redirect raises: the health middleware's home check and the pages row both say which exception.
    expect(failing(homeRaises), JSON.stringify(homeRaises, null, 1)).toEqual([CHECKS.health, CHECKS.pages].sort());
    expect(row(homeRaises, CHECKS.pages)?.detail).toBe('GET / -> /catalog/ -> 500: django.template.exceptions.TemplateDoesNotExist: catalog/home.html (+1 more)');
    expect(row(homeRaises, CHECKS.health)?.detail).toBe('GET /health/ with Host 127.0.3.12 -> 503: {"status": "fail", "check": "home", "detail": "GET / raised TemplateDoesNotExist: catalog/home.html"}');

    // Its own health view never asks for the Host: doctor shows the instance-IP trap could not be seen.
    expect(failing(noHostCheck), JSON.stringify(noHostCheck, null, 1)).toEqual([CHECKS.hostValidated]);
    expect(row(noHostCheck, CHECKS.hostValidated)).toMatchObject({
      detail: 'GET /health/ with Host greenlight-doctor.invalid -> 200: a Host not in ALLOWED_HOSTS is not refused, so a check by the instance IP passes where real traffic on that Host fails',
      fix: expect.stringContaining('greenlight_health.HealthCheckMiddleware'),
    });

    // The static step runs without the configuration; these settings need the secret then.
    expect(row(staticFails, CHECKS.bake)).toMatchObject({
      status: 'fail',
      detail: "failed in step static: manage.py collectstatic --no-input: KeyError: 'DJANGO_SECRET_KEY'",
    });
    expect(staticFails.filter((r) => r.status === 'fail').map((r) => r.check)).toEqual([CHECKS.bake]);
  }, 240_000);
});
