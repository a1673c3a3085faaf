// Bring your own app, end to end with real processes: a Django project written here (not the
// example) is rehearsed from its version 1 to its version 2 through the CLI users run and bootstrap.sh,
// a fault scenario is played on it, and doctor finds each trap of the health contract on builds
// made to have it, passes the one that meets it, and stops at a project without its manifest.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { CHECKS, type CheckRow } from '../../lib/doctor/checks';
import { doctor } from '../../lib/doctor/run';
import { probe } from '../../lib/rehearsal/net';
import { rehearse } from '../../lib/rehearsal/release';
import { scenarioNamed } from '../../lib/rehearsal/scenarios';
import { cli, cliInProcess, errorLines } from '../helpers/cli';
import { minimalEnvironment, REPO_ROOT } from '../helpers/settings';
import { SHOPFRONT_HEALTH_PATH, writeShopfront, type ShopfrontOptions } from './second-app';

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const shopfront = (o: ShopfrontOptions) => writeShopfront(path.join(tempDir('shopfront-'), 'shopfront'), o);
const CONFIG = { SHOP_SECRET: 'rehearsal-only-secret' };
/** CONFIG as `--env-file` takes it. */
const envFile = () => {
  const file = path.join(tempDir('gl-env-'), 'shopfront.env');
  fs.writeFileSync(file, Object.entries(CONFIG).map(([k, v]) => `${k}=${v}\n`).join(''));
  return file;
};

const environment = (healthPath: string, gateTimeout = 300) =>
  loadSettings({
    app: 'shopfront',
    environments: {
      rehearsal: {
        ...minimalEnvironment(),
        healthCheck: { path: healthPath, interval: 5, timeout: 4, healthyThreshold: 2, unhealthyThreshold: 10, matcher: '200' },
        gate: { consecutiveHealthyPolls: 2, pollInterval: 5, timeout: gateTimeout, maxReplacedInstances: 2 },
      },
    },
  }).environments.rehearsal;

describe('greenlight rehearse --app v1 --app-green v2 on another Django project, as a process', () => {
  it("releases v2 through the CLI with cdk.json's staging settings: bootstrap.sh, the expand migration, the cutover, nothing dropped", async () => {
    const workDir = path.join(tempDir('gl-byo-'), 'run');
    // One instance a side: each boot costs a Django start, and test/userdata/bootstrap.test.ts holds
    // instances booting together to one migration at a time.
    const apps = ['--app', shopfront({ version: 1 }), '--app-green', shopfront({ version: 2 }), '--env-file', envFile()];
    const light = ['--instances', '1', '--workers', '1', '--time-scale', '0.05', '--rate', '40', '--concurrency', '4'];
    const run = await cli(['rehearse', ...apps, ...light, '--work-dir', workDir], {}, 150_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = run.stdout;
    expect(report).toMatch(/^greenlight rehearsal: OK\n/);
    expect(report).toMatch(/^failed requests 0 of [1-9]\d+$/m);
    expect(report).toMatch(new RegExp(`^health check  GET ${SHOPFRONT_HEALTH_PATH} every 750 ms`, 'm'));
    expect(report).toMatch(/^  served by +\d+× release-rehearsal-a, \d+× release-rehearsal-b$/m);
    expect(report).toMatch(/^  verdict +pass: smoke: /m);
    expect(report).toMatch(/^release +live$/m);
    expect(report).toMatch(/^ {2}blue-1 +127\.0\.1\.1 +rehearsal-a +started$/m);
    expect(report).toMatch(/^ {2}green-1 +127\.0\.1\.2 +rehearsal-b +started$/m);
    expect(report).toMatch(/^ {2}green-1 +running, GET health -> 200$/m);
    expect(report).toMatch(/^outcome +as expected$/m);
    // The app's health path is its manifest's; the mismatch with cdk.json is said, not fatal here.
    expect(run.stderr).toContain(`health path: the app serves ${SHOPFRONT_HEALTH_PATH}; environment staging checks /health/`);
    // v2's migration ran at green's first boot, under greenlight-migrate's lock; blue's ran v1's only.
    const log = (name: string) => fs.readFileSync(path.join(workDir, name, 'var/log/bootstrap.log'), 'utf8');
    expect(log('green-1')).toMatch(/migration lock acquired after [\d.]+s; running manage\.py migrate --no-input/);
    expect(log('green-1')).toContain('Applying catalog.0002_product_price... OK');
    expect(log('blue-1')).toContain('Applying catalog.0001_initial... OK');
    expect(log('blue-1')).not.toContain('0002_product_price');
  }, 180_000);
});

describe('a live release that does not boot', () => {
  it('stops the rehearsal with one line naming the instance, the step, the cause and the log, exit 1 and no stack trace', async () => {
    const workDir = path.join(tempDir('gl-byo-blue-'), 'run');
    // No --env-file: blue's SSM lacks SHOP_SECRET, which the app's manifest requires.
    const run = await cli(['rehearse', '--app', shopfront({ version: 1 }), '--instances', '1', '--workers', '1', '--work-dir', workDir], {}, 120_000);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    const stopped = errorLines(run).filter((l) => l.startsWith('greenlight:'));
    expect(stopped).toEqual([
      expect.stringMatching(
        new RegExp(
          '^greenlight: rehearsal stopped: blue \\(the live release\\) did not boot: blue-1: step required configuration: ' +
            'greenlight-config: required configuration missing: SHOP_SECRET .*; log ' +
            `${workDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/blue-1/var/log/bootstrap\\.log$`,
        ),
      ),
    ]);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(fs.readFileSync(path.join(workDir, 'blue-1', 'var', 'log', 'bootstrap.log'), 'utf8')).toContain('SHOP_SECRET');
  }, 150_000);
});

describe('a fault scenario on the same project', () => {
  it("missing-config: green's SSM lacks SHOP_SECRET, its first boot refuses, the gate fails and blue serves every request", async () => {
    let throughLoadBalancer: number | string = '';
    const report = await rehearse({
      app: 'shopfront',
      environment: 'rehearsal',
      // A 6 s gate once green has booted: the verdict comes from what green answers.
      settings: environment(SHOPFRONT_HEALTH_PATH, 60),
      scenario: scenarioNamed('missing-config'),
      timeScale: 0.1,
      instances: 1,
      workers: 1,
      concurrency: 4,
      ratePerSecond: 40,
      workDir: tempDir('gl-byo-fault-'),
      repoRoot: REPO_ROOT,
      appDir: shopfront({ version: 1 }),
      config: CONFIG,
      gateAfterBoot: true,
      onFinished: async (live) => {
        throughLoadBalancer = await probe(live.frontend.address, live.frontend.port, '/', live.hostHeader);
      },
    });
    expect(report.mismatch).toBeUndefined();
    expect(report).toMatchObject({ ok: true, outcome: 'rolled back before cutover', phaseFailed: 'gate', gate: { verdict: 'fail' } });
    expect(report.gate.reason).toContain('green-1: Target.ResponseCodeMismatch [502]');
    expect(report.gate.reason).toMatch(/Hint for Target\.ResponseCodeMismatch \[502\]: nginx answers but no app listens behind it/);
    // The fault left out the first name of this app's required-env, and first boot names it.
    expect(report.instances.find((i) => i.name === 'green-1')?.boot).toMatch(
      /^failed in step required configuration: greenlight-config: required configuration missing: SHOP_SECRET \(the app's manifest requires it; none in SSM \/greenlight\/shopfront\/rehearsal\/config\/\)/,
    );
    expect(report.load.failed, JSON.stringify({ load: report.load, timeline: report.timeline })).toBe(0);
    expect(report.load.sent).toBeGreaterThan(100);
    expect(Object.keys(report.load.servedBy)).toEqual(['release-rehearsal-a']);
    expect(report.servingAfter).toEqual({ release: 'rehearsal-a', instances: [{ name: 'blue-1', running: true, health: 200 }] });
    expect(throughLoadBalancer).toBe(200);
  }, 120_000);
});

describe('doctor on the same project', () => {
  const failing = (rows: readonly CheckRow[]) => rows.filter((r) => r.status === 'fail').map((r) => r.check).sort();
  let address = 0;
  const check = (o: ShopfrontOptions, healthPath = SHOPFRONT_HEALTH_PATH, liveAppDir?: string) => {
    const workDir = tempDir('gl-doctor-');
    // An app on SQLite names its database, as --env-file would; the others get doctor's PostgreSQL.
    const database: Record<string, string> = o.sqliteOnly ? { DATABASE_URL: `sqlite:///${workDir}/db/app.sqlite3` } : {};
    return doctor({
      app: 'shopfront',
      appDir: shopfront(o),
      ...(liveAppDir ? { liveAppDir } : {}),
      environment: 'rehearsal',
      settings: environment(healthPath),
      config: { ...CONFIG, ...database },
      repoRoot: REPO_ROOT,
      workDir,
      address: `127.0.3.${++address}`,
    });
  };

  it('passes a build that meets the contract, and finds each trap on builds made to have it', async () => {
    const [good, noSlash, https] = await Promise.all([
      // With the live release's project, the migration check joins: v2 only adds a nullable field.
      check({ version: 2 }, SHOPFRONT_HEALTH_PATH, shopfront({ version: 1 })),
      check({ version: 2, healthPathWithoutSlash: true }, '/ops/ready'),
      check({ version: 2, sslRedirect: true, sqliteOnly: true }),
    ]);
    expect(failing(good), JSON.stringify(good, null, 1)).toEqual([]);
    expect(good.filter((r) => r.status === 'skip')).toEqual([]);
    expect(good.find((r) => r.check === CHECKS.migrationSafety)?.detail).toMatch(/: passed: nothing breaks the live release$/);

    expect(failing(noSlash), JSON.stringify(noSlash, null, 1)).toEqual([CHECKS.health, CHECKS.slash].sort());
    expect(noSlash.find((r) => r.check === CHECKS.slash)?.fix).toContain('end health-path with its slash (/ops/ready/)');

    // An app not on PostgreSQL fails the connect-timeout check: it could not be verified.
    expect(failing(https), JSON.stringify(https, null, 1)).toEqual([CHECKS.health, CHECKS.https, CHECKS.dbTimeout].sort());
    expect(https.find((r) => r.check === CHECKS.https)?.detail).toContain(`to https://127.0.3.3${SHOPFRONT_HEALTH_PATH}`);
    expect(https.find((r) => r.check === CHECKS.dbTimeout)).toMatchObject({
      detail: expect.stringContaining("the app's database is sqlite"),
      fix: expect.stringContaining('PostgreSQL advisory lock'),
    });
  }, 240_000);

  it('through the CLI, exits 1 on a build with every other trap and prints each failure with its fix', async () => {
    const appDir = shopfront({ version: 1, ignoresInstanceIp: true, startsWithoutConfig: true, noConnectTimeout: true, migrateDoesNothing: true, modelWithoutMigration: true });
    const run = await cli(['doctor', '--app', appDir, '--env-file', envFile()], {}, 150_000);
    const logs = /^logs: (.+)$/m.exec(run.stderr)?.[1];
    if (logs) dirs.push(logs);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const table = run.stdout;
    const lines = table.split('\n');
    const statusOf = (name: string) => lines.find((l) => l.slice(6).startsWith(`${name} `))?.slice(0, 4);
    // cdk.json's staging checks /health/; this app serves /ops/ready/.
    // The migrate command that does not migrate leaves no table, so the home page answers 500 too.
    const failed: string[] = [CHECKS.path, CHECKS.host, CHECKS.health, CHECKS.pages, CHECKS.requiredConfig, CHECKS.migrations, CHECKS.models, CHECKS.dbTimeout];
    // Every row but the migration check, which needs --live-app.
    const rows = Object.values(CHECKS).filter((c) => c !== CHECKS.migrationSafety);
    expect(Object.fromEntries(rows.map((c) => [c, statusOf(c)]))).toEqual(Object.fromEntries(rows.map((c) => [c, failed.includes(c) ? 'FAIL' : 'PASS'])));
    expect(statusOf(CHECKS.migrationSafety)).toBeUndefined();
    expect(table).toContain(`fix: set healthCheck.path of staging in cdk.json to ${SHOPFRONT_HEALTH_PATH}`);
    expect(table).toContain("fix: add the instance's private IP to ALLOWED_HOSTS");
    expect(table).toContain('the app starts without SHOP_SECRET');
    expect(table).toMatch(/a connect to an unanswering database still waited after [\d.]+ s/);
    expect(table).toContain('after first boot ran manage.py check');
    expect(table).toMatch(/\n\n8 of 13 checks failed\n$/);
  }, 180_000);

  it('stops at a project without its manifest with one line naming the file and what to do, as the rehearsal does', async () => {
    const appDir = shopfront({ version: 1 });
    fs.rmSync(path.join(appDir, 'pyproject.toml'));
    // Nothing boots, so the CLI's entry function in this process answers as the process would.
    const doctorRun = await cliInProcess(['doctor', '--app', appDir]);
    const rehearseRun = await cliInProcess(['rehearse', '--app', appDir]);
    const line = `greenlight: ${appDir}/pyproject.toml: not found; create it next to manage.py with a [tool.greenlight] table of wsgi, settings, health-path and required-env`;
    for (const run of [doctorRun, rehearseRun]) {
      expect(run.code).toBe(2);
      expect(errorLines(run)).toEqual([line]);
      expect(run.stdout).toBe('');
    }
  });
});
