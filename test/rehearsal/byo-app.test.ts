// Bring your own app, end to end with real processes: a Django project written here (not the
// example) is rehearsed from its version 1 to its version 2 through bootstrap.sh, and doctor finds
// each trap of the health contract on builds made to have it, and passes the one that meets it.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { CHECKS, type CheckRow } from '../../lib/doctor/checks';
import { doctor } from '../../lib/doctor/run';
import { probe } from '../../lib/rehearsal/net';
import { rehearse } from '../../lib/rehearsal/release';
import { scenarioNamed } from '../../lib/rehearsal/scenarios';
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

const environment = (healthPath: string) =>
  loadSettings({
    app: 'shopfront',
    environments: {
      rehearsal: {
        ...minimalEnvironment(),
        healthCheck: { path: healthPath, interval: 5, timeout: 4, healthyThreshold: 2, unhealthyThreshold: 10, matcher: '200' },
        gate: { consecutiveHealthyPolls: 2, pollInterval: 5, timeout: 300, maxReplacedInstances: 2 },
      },
    },
  }).environments.rehearsal;

describe('rehearse --app v1 --app-green v2 on another Django project', () => {
  it('boots each version through bootstrap.sh, migrates the expand step once, moves traffic to v2 and drops nothing', async () => {
    let home: number | string = '';
    let body = '';
    const report = await rehearse({
      app: 'shopfront',
      environment: 'rehearsal',
      settings: environment(SHOPFRONT_HEALTH_PATH),
      scenario: scenarioNamed('healthy'),
      timeScale: 0.1,
      workers: 1,
      concurrency: 4,
      ratePerSecond: 40,
      workDir: tempDir('gl-byo-'),
      repoRoot: REPO_ROOT,
      appDir: shopfront({ version: 1 }),
      appGreenDir: shopfront({ version: 2 }),
      config: CONFIG,
      onFinished: async (live) => {
        home = await probe(live.frontend.address, live.frontend.port, '/', live.hostHeader);
        body = await new Promise<string>((resolve, reject) => {
          const req = http.get({ host: live.frontend.address, port: live.frontend.port, path: '/', headers: { host: live.hostHeader }, agent: false }, (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve(text));
          });
          req.on('error', reject);
        });
      },
    });
    expect(report.mismatch).toBeUndefined();
    expect(report.gate.verdict).toBe('pass');
    expect(report.healthCheck.path).toBe(SHOPFRONT_HEALTH_PATH);
    expect(report.load.failed).toBe(0);
    expect(report.load.servedBy['release-rehearsal-a']).toBeGreaterThan(0);
    expect(report.load.servedBy['release-rehearsal-b']).toBeGreaterThan(0);
    expect(report.instances.map((i) => i.boot)).toEqual(['started', 'started', 'started', 'started']);
    expect(report.ok).toBe(true);
    expect(home).toBe(200);
    expect(body).toBe('shopfront v2 (release rehearsal-b): 0 products');
    // v2's migration ran at green's first boot, on one instance, under greenlight-migrate's lock.
    const logs = ['green-1', 'green-2'].map((n) => fs.readFileSync(path.join(report.workDir, n, 'var/log/bootstrap.log'), 'utf8'));
    for (const log of logs) expect(log).toMatch(/migration lock acquired after [\d.]+s; running manage\.py migrate --no-input/);
    expect(logs.filter((l) => l.includes('Applying catalog.0002_product_price... OK'))).toHaveLength(1);
  }, 240_000);
});

describe('doctor on the same project', () => {
  const failing = (rows: readonly CheckRow[]) => rows.filter((r) => r.status === 'fail').map((r) => r.check).sort();
  let address = 0;
  const check = (o: ShopfrontOptions, healthPath = SHOPFRONT_HEALTH_PATH) =>
    doctor({
      app: 'shopfront',
      appDir: shopfront(o),
      environment: 'rehearsal',
      settings: environment(healthPath),
      config: CONFIG,
      repoRoot: REPO_ROOT,
      workDir: tempDir('gl-doctor-'),
      address: `127.0.3.${++address}`,
    });

  it('passes a build that meets the contract, and finds each trap on builds made to have it', async () => {
    const [good, noSlash, https] = await Promise.all([
      check({ version: 2 }),
      check({ version: 2, healthPathWithoutSlash: true }, '/ops/ready'),
      check({ version: 2, sslRedirect: true }),
    ]);
    expect(failing(good), JSON.stringify(good, null, 1)).toEqual([]);
    expect(good.filter((r) => r.status === 'skip')).toEqual([]);

    expect(failing(noSlash), JSON.stringify(noSlash, null, 1)).toEqual([CHECKS.health, CHECKS.slash].sort());
    expect(noSlash.find((r) => r.check === CHECKS.slash)?.fix).toContain('end health-path with its slash (/ops/ready/)');

    expect(failing(https), JSON.stringify(https, null, 1)).toEqual([CHECKS.health, CHECKS.https].sort());
    expect(https.find((r) => r.check === CHECKS.https)?.detail).toContain(`to https://127.0.3.3${SHOPFRONT_HEALTH_PATH}`);

    const broken = await check({ version: 1, ignoresInstanceIp: true, startsWithoutConfig: true, noConnectTimeout: true, migrateDoesNothing: true, modelWithoutMigration: true });
    expect(failing(broken), JSON.stringify(broken, null, 1)).toEqual([CHECKS.host, CHECKS.health, CHECKS.requiredConfig, CHECKS.migrations, CHECKS.models, CHECKS.dbTimeout].sort());
    const row = (name: string) => broken.find((r) => r.check === name) as CheckRow;
    expect(row(CHECKS.host).fix).toContain('ALLOWED_HOSTS');
    expect(row(CHECKS.requiredConfig).detail).toBe('the app starts without SHOP_SECRET');
    expect(row(CHECKS.dbTimeout).detail).toMatch(/still waited after [\d.]+ s/);
    expect(row(CHECKS.migrations).detail).toContain('after first boot ran manage.py check');
  }, 240_000);
});
