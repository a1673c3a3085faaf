// The rehearsal's inputs and pure pieces: option validation, scenarios and their outcome checks,
// the prerequisite check, the report, and the load generator against a local server.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { environmentNamed } from '../../lib/config/project';
import { UserError } from '../../lib/errors';
import { numberOption } from '../../lib/options';
import { checkRehearseOptions, loadPathsOption, pruneRuns, timeScaleFor } from '../../lib/rehearsal/options';
import { loadPaths } from '../../lib/rehearsal/blue';
import { checkSettingsFrom } from '../../lib/rehearsal/haproxy-config';
import { LoadGenerator, percentile } from '../../lib/rehearsal/load';
import { debianFamily, installCommand, prerequisites } from '../../lib/rehearsal/prerequisites';
import { bakePolicyFrom, gatePolicyFrom } from '../../lib/rehearsal/release';
import { scenarioNamed, SCENARIO_NAMES, type OutcomeFacts } from '../../lib/rehearsal/scenarios';
import { cliInProcess } from '../helpers/cli';
import { cdkContext, REPO_ROOT } from '../helpers/settings';

const settings = loadSettings(cdkContext());
const staging = settings.environments.staging;

describe('options', () => {
  it('accepts numbers in range and echoes anything else with the range', () => {
    expect(numberOption('--rate', '50', 1, 2000, false)).toBe(50);
    expect(numberOption('--rate', undefined, 1, 2000, false)).toBeUndefined();
    expect(() => numberOption('--instances', '2.5', 1, 8, true)).toThrow('--instances "2.5": expected a whole number from 1 to 8');
    expect(() => numberOption('--rate', 'fast', 1, 2000, false)).toThrow(UserError);
    expect(() => numberOption('--port', '', 1, 65535, true)).toThrow('--port "": expected a whole number from 1 to 65535');
  });

  it('prunes default run directories beyond the newest five, sparing any touched in the last hour', () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-runs-'));
    try {
      const names = Array.from({ length: 8 }, (_, i) => `20261206-2000${i}0-${100 + i}`);
      for (const n of names) fs.mkdirSync(path.join(parent, n, 'image'), { recursive: true });
      fs.mkdirSync(path.join(parent, 'my-own-run'));
      const old = Date.now() / 1000 - 2 * 3600;
      for (const n of names.slice(1)) fs.utimesSync(path.join(parent, n), old, old);
      // The oldest was touched just now: a run that may still be going.
      expect(pruneRuns(parent)).toBe(2);
      expect(fs.readdirSync(parent).sort()).toEqual([names[0], ...names.slice(3), 'my-own-run'].sort());
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });

  it('takes the load paths from --load-paths, or the home page and the smoke paths', () => {
    expect(loadPathsOption('/,/catalog/?page=2')).toEqual(['/', '/catalog/?page=2']);
    expect(loadPathsOption(undefined)).toBeUndefined();
    expect(() => loadPathsOption('/,catalog/')).toThrow(
      '--load-paths "/,catalog/": "catalog/" is not an absolute path; expected 1 to 20 absolute paths separated by commas, e.g. /,/catalog/',
    );
    expect(loadPaths(undefined, ['/', '/catalog/'])).toEqual(['/', '/catalog/']);
    expect(loadPaths(undefined, undefined)).toEqual(['/']);
    expect(loadPaths(['/books/'], ['/'])).toEqual(['/books/']);
  });

  it('keeps a scaled health check realistic', () => {
    expect(timeScaleFor(undefined, 'staging', staging)).toBe(1);
    expect(timeScaleFor('0.05', 'staging', staging)).toBe(0.05);
    expect(() => timeScaleFor('0.005', 'staging', staging)).toThrow(
      '--time-scale 0.005: too small for environment staging (interval 15s, timeout 5s); the scaled check needs at least 100 ms interval and 50 ms timeout, so use 0.01 or more',
    );
    expect(() => timeScaleFor('2', 'staging', staging)).toThrow('--time-scale "2": expected a number from 0.001 to 1');
  });

  it('checks every value through the CLI entry: the option, the value and what is allowed, before anything starts', async () => {
    const cases: Array<[string[], string]> = [
      [['--rate', 'fast'], '--rate "fast": expected a number from 1 to 2000'],
      [['--instances', '9'], '--instances "9": expected a whole number from 1 to 8'],
      [['--workers', '0'], '--workers "0": expected a whole number from 1 to 16'],
      [['--concurrency', '1.5'], '--concurrency "1.5": expected a whole number from 1 to 256'],
      [['--port', '70000'], '--port "70000": expected a whole number from 1 to 65535'],
      [['--time-scale', '2'], '--time-scale "2": expected a number from 0.001 to 1'],
      [['--env', 'qa'], '--env "qa": unknown environment; defined in cdk.json: staging, production'],
      [['--app', 'nowhere'], `--app "nowhere": ${path.resolve('nowhere')} has no manage.py; expected a Django project directory`],
      [['--env-file', 'nowhere.env'], '--env-file "nowhere.env": no such file'],
    ];
    for (const [args, message] of cases) {
      const run = await cliInProcess(['rehearse', ...args]);
      expect({ args, code: run.code, stderr: run.stderr.trim() }).toEqual({ args, code: 2, stderr: `greenlight: ${message}` });
    }
  });

  it('lists every option in its help', async () => {
    const run = await cliInProcess(['rehearse', '--help']);
    expect(run.code).toBe(0);
    for (const option of ['--env', '--scenario', '--time-scale', '--instances', '--workers', '--rate', '--concurrency', '--port', '--work-dir', '--app', '--app-green', '--env-file', '--ignore-migration-check', '--json']) {
      expect(run.stdout).toContain(`${option} `);
    }
  });

  it('names the environments cdk.json defines', () => {
    expect(environmentNamed(settings, 'production').listener.protocol).toBe('HTTPS');
    expect(() => environmentNamed(settings, 'qa')).toThrow('--env "qa": unknown environment; defined in cdk.json: staging, production');
  });

  it('scales the gate policy with the health check', () => {
    expect(gatePolicyFrom(staging, 2, 0.1)).toEqual({ expectedInstances: 2, consecutiveHealthyPolls: 3, pollIntervalMs: 1500, timeoutMs: 90_000, maxReplacedInstances: 2 });
  });

  it('scales the bake window, and leaves CloudWatch alarms to AWS', () => {
    expect(bakePolicyFrom({ duration: 60, maxErrorRate: 1, maxErrors: 0, alarms: ['api-p99'] }, 0.1)).toEqual({
      durationMs: 6_000,
      maxErrorRate: 1,
      maxErrors: 0,
      alarms: [],
      settleMs: 0,
    });
  });

  it('refuses errors-after-cutover on an environment with neither a bake window nor traffic steps', () => {
    const { bake: _bake, traffic: _traffic, ...neither } = settings.environments.production;
    expect(() => checkRehearseOptions({ scenario: 'errors-after-cutover' }, 'production', neither)).toThrow(
      '--scenario errors-after-cutover: environment production has no bake window and no traffic steps, and only they catch a release that fails once it serves; ' +
        'give it one in cdk.json, e.g. "bake": { "duration": 60 } or "traffic": { "steps": [10] }',
    );
    expect(() => checkRehearseOptions({ scenario: 'errors-after-cutover' }, 'production', settings.environments.production)).not.toThrow();
  });

  it('refuses latency-regression on an environment without traffic steps, before anything starts', async () => {
    expect(settings.environments.staging.traffic).toBeUndefined();
    const run = await cliInProcess(['rehearse', '--env', 'staging', '--scenario', 'latency-regression', '--time-scale', '0.05']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      "greenlight: --scenario latency-regression: environment staging has no traffic steps, and only they compare the new release's latency with the live one's; " +
        'give it some in cdk.json, e.g. "traffic": { "steps": [10] }',
    );
  });

  it('refuses breaking-migration on an app of its own without the new release that breaks it', async () => {
    const app = path.join(REPO_ROOT, 'examples', 'django-app');
    const run = await cliInProcess(['rehearse', '--scenario', 'breaking-migration', '--app', app, '--time-scale', '0.05']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `greenlight: --scenario breaking-migration: give --app-green, a new release of ${app} whose migration drops a column the live release reads; ` +
        'greenlight derives one only for the reference app (no --app)',
    );
  });

  it('exits with code 2 and one line for a user mistake', async () => {
    const run = await cliInProcess(['rehearse', '--scenario', 'outage']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      'greenlight: --scenario "outage": unknown scenario; expected one of healthy, redirect-301, bad-host, missing-config, db-down, flapping, errors-after-cutover, latency-regression, scale-out-mid-gate, rollback-warm, breaking-migration',
    );
  });
});

describe('scenarios', () => {
  const facts = (patch: Partial<OutcomeFacts>): OutcomeFacts => ({
    verdict: 'fail',
    reason: '',
    maxConsecutiveHealthy: 0,
    consecutiveHealthyPolls: 3,
    greenBoots: ['started', 'started'],
    greenEverHealthy: false,
    outcome: 'rolled back before cutover',
    ...patch,
  });

  it('every scenario names its expected outcome', () => {
    for (const name of SCENARIO_NAMES) {
      const scenario = scenarioNamed(name);
      expect(scenario.expected.length).toBeGreaterThan(20);
      expect(scenario.expectedVerdict).toBe(['healthy', 'errors-after-cutover', 'latency-regression', 'scale-out-mid-gate', 'rollback-warm', 'breaking-migration'].includes(name) ? 'pass' : 'fail');
    }
  });

  it('healthy expects a pass, clean smoke checks and bake, and green live', () => {
    const healthy = scenarioNamed('healthy');
    expect(healthy.check(facts({ verdict: 'pass', outcome: 'live' }))).toBeUndefined();
    expect(healthy.check(facts({ verdict: 'pass', outcome: 'live', smoke: 'pass', bake: { verdict: 'pass', reason: 'bake: passed' } }))).toBeUndefined();
    expect(healthy.check(facts({ verdict: 'fail' }))).toBe('the gate failed; expected it to pass');
    expect(healthy.check(facts({ verdict: 'pass', smoke: 'fail' }))).toBe('the smoke checks failed; expected them to pass');
    const breach = { verdict: 'fail' as const, reason: 'bake: 3% 5xx' };
    expect(healthy.check(facts({ verdict: 'pass', smoke: 'pass', bake: breach, outcome: 'rolled back after cutover' }))).toBe(
      'the bake failed; expected it to pass: bake: 3% 5xx',
    );
  });

  it('errors-after-cutover expects the gate to pass and the bake to take green out on its 5xx', () => {
    const scenario = scenarioNamed('errors-after-cutover');
    const caught = { verdict: 'fail' as const, reason: "bake: 100% 5xx on the release's target group over 2s (limit 1%): 33 of 33 requests" };
    expect(scenario.greenBreaksAfterCutover).toBe(true);
    expect(scenario.check(facts({ verdict: 'pass', smoke: 'pass', bake: caught, outcome: 'rolled back after cutover' }))).toBeUndefined();
    expect(scenario.check(facts({ verdict: 'fail', reason: 'Gate timed out' }))).toBe('the gate failed; expected it to pass: Gate timed out');
    expect(scenario.check(facts({ verdict: 'pass', outcome: 'live' }))).toBe('no bake and no traffic steps ran; this scenario needs the environment to have one of them');
    expect(scenario.check(facts({ verdict: 'pass', bake: { verdict: 'pass', reason: 'bake: passed after 60s' }, outcome: 'live' }))).toBe(
      'the bake passed; expected it to catch the 5xx: bake: passed after 60s',
    );
    const unhealthy = { verdict: 'fail' as const, reason: "bake: every target of the release's target group is unhealthy (0 of 2)" };
    expect(scenario.check(facts({ verdict: 'pass', bake: unhealthy, outcome: 'rolled back after cutover' }))).toMatch(/^the bake failed for another reason/);
  });

  it('errors-after-cutover with traffic steps expects the first step to refuse green on its 5xx', () => {
    const scenario = scenarioNamed('errors-after-cutover');
    const refused = { verdict: 'fail' as const, reason: "traffic step 1 (10%): 100% 5xx on the release's target group over 1s (limit 1%): 4 of 4 requests" };
    expect(scenario.check(facts({ verdict: 'pass', smoke: 'pass', traffic: refused, outcome: 'refused at a traffic step' }))).toBeUndefined();
    expect(scenario.check(facts({ verdict: 'pass', traffic: { verdict: 'pass', reason: 'traffic step 1 (10%): passed after 6s' }, outcome: 'live' }))).toBe(
      'the traffic steps passed; expected the first to catch the 5xx: traffic step 1 (10%): passed after 6s',
    );
    const second = { verdict: 'fail' as const, reason: 'traffic step 2 (50%): 5xx 9% vs live 0% (p < 0.001, margin 1 point)' };
    expect(scenario.check(facts({ verdict: 'pass', traffic: second, outcome: 'refused at a traffic step' }))).toMatch(/^the traffic steps failed, but not at the first step/);
  });

  it('latency-regression expects the first step to refuse green on both p99s', () => {
    const scenario = scenarioNamed('latency-regression');
    expect(scenario.greenSlowPagesMs).toBe(300);
    const refused = { verdict: 'fail' as const, reason: 'traffic step 1 (10%): p99 327 ms vs live 24 ms (limit 1.5× and +100 ms) over 6s: 0 of 15 requests, live 0 of 172' };
    expect(scenario.check(facts({ verdict: 'pass', smoke: 'pass', traffic: refused, outcome: 'refused at a traffic step' }))).toBeUndefined();
    expect(scenario.check(facts({ verdict: 'pass', outcome: 'live' }))).toBe('no traffic steps ran; this scenario needs the environment to have traffic.steps');
    const onErrors = { verdict: 'fail' as const, reason: 'traffic step 1 (10%): 5xx 9% vs live 0% (p < 0.001, margin 1 point)' };
    expect(scenario.check(facts({ verdict: 'pass', traffic: onErrors, outcome: 'refused at a traffic step' }))).toMatch(/^the traffic steps failed, but not at the first step on both p99s/);
  });

  it('rollback-warm expects green live, then a passing gate on the standby and the switch back to it', () => {
    const scenario = scenarioNamed('rollback-warm');
    const gatePassed = { verdict: 'pass' as const, reason: '2/2 healthy' };
    expect(scenario.rollbackToStandby).toBe(true);
    expect(scenario.check(facts({ verdict: 'pass', outcome: 'switched back to the standby', rollback: gatePassed }))).toBeUndefined();
    expect(scenario.check(facts({ verdict: 'pass', outcome: 'live' }))).toBe('no rollback ran');
    expect(scenario.check(facts({ verdict: 'pass', outcome: 'live', rollback: { verdict: 'fail', reason: 'timed out' } }))).toBe(
      'the gate on the standby failed: timed out',
    );
    expect(scenario.check(facts({ verdict: 'fail', reason: 'x', outcome: 'rolled back before cutover' }))).toMatch(/^the gate failed/);
  });

  it('scale-out-mid-gate expects a pass on the larger fleet, counted after the scale-out', () => {
    const scenario = scenarioNamed('scale-out-mid-gate');
    const scaleOut = { to: 3, instance: 'green-3', streakBefore: 1 };
    const passed = '3/3 healthy in every target group for 3 consecutive polls after 20s';
    expect(scenario.greenScalesOutMidGate).toBe(true);
    expect(scenario.check(facts({ verdict: 'pass', reason: passed, scaleOut, outcome: 'live' }))).toBeUndefined();
    expect(scenario.check(facts({ verdict: 'pass', reason: '2/3 healthy in every target group for 3 consecutive polls after 20s', scaleOut, outcome: 'live' }))).toMatch(
      /^the gate passed without waiting for green-3/,
    );
    expect(scenario.check(facts({ verdict: 'pass', reason: passed, outcome: 'live' }))).toMatch(/^green never scaled out/);
    expect(scenario.check(facts({ verdict: 'pass', reason: passed, scaleOut: { ...scaleOut, streakBefore: 3 }, outcome: 'live' }))).toMatch(/already counted K/);
    expect(scenario.check(facts({ verdict: 'fail', reason: 'Gate timed out', scaleOut }))).toMatch(/^the gate failed; expected it to pass with green-3/);
  });

  it('a failure scenario expects its own reason, not just any failure', () => {
    const redirect = scenarioNamed('redirect-301');
    const hint = 'Hint for Target.ResponseCodeMismatch [301]: end it with a trailing slash';
    const appRedirect = { path: '/health', status: 301, location: '/health/' };
    expect(redirect.check(facts({ reason: `green-1: Target.ResponseCodeMismatch [301]. ${hint}`, greenCheckAnswer: appRedirect }))).toBeUndefined();
    // The 301 must be the booted app's redirect to the slash: not nginx's to https, not before green booted.
    expect(
      redirect.check(facts({ reason: `green-1: Target.ResponseCodeMismatch [301]. ${hint}`, greenCheckAnswer: { ...appRedirect, location: 'https://127.0.1.3/health' } })),
    ).toBe("green answers GET /health with 301 to https://127.0.1.3/health, not the app's redirect to /health/");
    expect(redirect.check(facts({ reason: `green-1: Target.ResponseCodeMismatch [301]. ${hint}`, greenBoots: ['failed in step migrations: x'], greenCheckAnswer: appRedirect }))).toBe(
      "green did not boot, so the 301 was not the app's: failed in step migrations: x",
    );
    expect(redirect.check(facts({ reason: 'green-1: Target.Timeout' }))).toContain('its reason does not match');
    expect(redirect.check(facts({ verdict: 'pass' }))).toBe('the gate passed; expected it to fail');
    const missing = scenarioNamed('missing-config');
    expect(missing.check(facts({ reason: 'Target.ResponseCodeMismatch [502]' }))).toBe('green did not fail on its missing configuration: started; started');
    const refused = 'failed in step required configuration: required configuration missing: SECRET_KEY (…) (log: /x)';
    expect(missing.check(facts({ reason: 'Target.ResponseCodeMismatch [502]', greenBoots: [refused, refused] }))).toBeUndefined();
  });

  it('flapping expects the K-consecutive rule to hold a gate that saw green healthy', () => {
    const flapping = scenarioNamed('flapping');
    const timedOut = 'Gate timed out after 18s with 1/2 healthy';
    expect(flapping.check(facts({ reason: timedOut, greenEverHealthy: true, maxConsecutiveHealthy: 2 }))).toBeUndefined();
    expect(flapping.check(facts({ reason: timedOut, greenEverHealthy: false }))).toBe('no green instance was ever healthy, so nothing flapped');
    expect(flapping.check(facts({ reason: timedOut, greenEverHealthy: true, maxConsecutiveHealthy: 3 }))).toBe('the gate counted K consecutive healthy polls');
  });

  it('changes only what the scenario is about', () => {
    const check = checkSettingsFrom(staging.healthCheck, 1);
    expect(scenarioNamed('redirect-301').greenCheck?.(check)).toEqual({ ...check, path: '/health' });
    expect(scenarioNamed('flapping').greenCheck?.(check)).toEqual({ ...check, fall: 1 });
    expect(scenarioNamed('missing-config').greenMissesRequiredConfig).toBe(true);
    expect(scenarioNamed('bad-host').greenWrongIpv4).toBe(true);
    expect(scenarioNamed('db-down').greenDatabaseDown).toBe(true);
  });
});

describe('prerequisites', () => {
  it('are all present on this machine', () => {
    expect(prerequisites(true).filter((p) => !p.present()).map((p) => p.name)).toEqual([]);
  });

  it('recognises Debian and Ubuntu, and only them, for apt', () => {
    expect(debianFamily('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')).toBe(true);
    expect(debianFamily('ID=ubuntu\nID_LIKE=debian\n')).toBe(true);
    expect(debianFamily('ID=linuxmint\nID_LIKE="ubuntu debian"\n')).toBe(true);
    expect(debianFamily('ID="rhel"\nID_LIKE="fedora"\n')).toBe(false);
    expect(debianFamily('')).toBe(false);
  });

  it('prints the exact install command', () => {
    expect(installCommand(['haproxy', 'python3-django'])).toBe('apt-get install -y --no-install-recommends haproxy python3-django');
  });
});

describe('LoadGenerator', () => {
  it('requests its paths in turn and counts as a load balancer does: 2xx and 3xx served, 5xx and resets failed, 4xx apart', async () => {
    const STATUS: Record<string, number> = { '/': 200, '/moved/': 302, '/missing/': 404, '/broken/': 502 };
    const seen: Array<{ path: string; answer: number | 'reset' }> = [];
    const server = http.createServer((req, res) => {
      const path = req.url ?? '';
      // Every seventh request loses its connection, whatever its path.
      if ((seen.length + 1) % 7 === 0) {
        seen.push({ path, answer: 'reset' });
        req.socket.destroy();
        return;
      }
      seen.push({ path, answer: STATUS[path] });
      res.statusCode = STATUS[path];
      if (res.statusCode === 302) res.setHeader('location', '/');
      res.setHeader('x-greenlight-served-by', 'release-a/blue-1');
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const paths = ['/', '/moved/', '/missing/', '/broken/'];
      const load = new LoadGenerator({ host: '127.0.0.1', port, paths, hostHeader: 'localhost', concurrency: 2, ratePerSecond: 1000, maxRequests: 56 });
      const began = Date.now();
      load.start();
      // Until the server has seen every request the generator may send, however busy the machine.
      for (let waited = 0; seen.length < 56 && waited < 30_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      const result = await load.stop();
      const seconds = Math.ceil((Date.now() - began) / 1000);
      const answered = (status: number) => seen.filter((s) => s.answer === status).length;
      expect(result.sent).toBe(56);
      expect(result.paths).toEqual(paths);
      // Each path was asked for a quarter of the time.
      for (const path of paths) expect(seen.filter((s) => s.path === path)).toHaveLength(14);
      expect(answered(302)).toBeGreaterThan(0);
      expect(answered(404)).toBeGreaterThan(0);
      expect(result.redirects).toEqual({ '302': answered(302) });
      expect(result.clientErrors).toEqual({ '404': answered(404) });
      expect(result.serverErrors).toEqual({ '502': answered(502) });
      expect(Object.values(result.connectionErrors).reduce((a, b) => a + b, 0)).toBe(8);
      expect(result.failed).toBe(answered(502) + 8);
      expect(result.served).toBe(answered(200) + answered(302));
      expect(result.servedBy).toEqual({ 'release-a': 48 });
      // Ten failures within the run: one second when the machine is idle, a few more when it is not.
      expect(result.errorSeconds).toBeGreaterThanOrEqual(1);
      expect(result.errorSeconds).toBeLessThanOrEqual(seconds);
      expect(result.latencyMs.max).toBeGreaterThanOrEqual(result.latencyMs.p99);
      expect(result.firstFailure).toBeDefined();
    } finally {
      server.close();
    }
  });

  it('holds its rate with open arrivals after slow answers, which paced clients cannot, and keeps its ceiling in flight', async () => {
    // A request arriving within 300 ms of its path's first takes 500 ms, later ones are answered at
    // once; requests in flight counted per path, one path per run.
    const first: Record<string, number> = {};
    const inFlight: Record<string, number> = {};
    const most: Record<string, number> = {};
    const server = http.createServer((req, res) => {
      const key = req.url ?? '';
      first[key] ??= Date.now();
      inFlight[key] = (inFlight[key] ?? 0) + 1;
      most[key] = Math.max(most[key] ?? 0, inFlight[key]);
      setTimeout(
        () => {
          inFlight[key] -= 1;
          res.end('ok');
        },
        Date.now() - first[key] < 300 ? 500 : 0,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const run = async (path: string, arrivals: 'clients' | 'open') => {
      const load = new LoadGenerator({ host: '127.0.0.1', port, paths: [path], hostHeader: 'localhost', ratePerSecond: 50, concurrency: 8, maxDurationMs: 1_500, arrivals });
      load.start();
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      return load.stop();
    };
    try {
      const [closed, open] = await Promise.all([run('/clients', 'clients'), run('/open', 'open')]);
      // 8 clients each sending every 160 ms: the first 500 ms answer costs each about two requests.
      expect(closed.sent).toBeLessThanOrEqual(66);
      // Open arrivals: the requests due while 8 waited start once slots free, 75 in 1.5 s in all.
      expect(open.sent).toBeGreaterThanOrEqual(70);
      expect(open.sent).toBeLessThanOrEqual(76);
      expect(open.served).toBe(open.sent);
      // Both keep to 8 in flight.
      expect(most['/clients']).toBeLessThanOrEqual(8);
      expect(most['/open']).toBe(8);
    } finally {
      server.close();
    }
  });

  it('takes percentiles by nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile([], 0.99)).toBe(0);
  });
});
