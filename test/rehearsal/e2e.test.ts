// End to end, with real HAProxy, nginx, gunicorn, Django and PostgreSQL: a healthy release through the
// CLI with cdk.json's staging settings (gate, smoke checks, cutover, bake), two releases failing
// their gate and one failing after the cutover through the library with a compact environment, and
// Ctrl-C in the middle of a release. Time scales keep the whole file near a minute and a half.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import type { EnvironmentSettings } from '../../lib/config/schema';
import { probe } from '../../lib/rehearsal/net';
import { rehearse, type LiveRehearsal } from '../../lib/rehearsal/release';
import type { RehearsalReport } from '../../lib/rehearsal/report';
import { scenarioNamed, type ScenarioName } from '../../lib/rehearsal/scenarios';
import { cdkContext, minimalEnvironment, REPO_ROOT } from '../helpers/settings';

const workDirs: string[] = [];
const newWorkDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-rehearsal-'));
  workDirs.push(dir);
  return dir;
};
afterAll(() => workDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Runs the CLI; resolves with its exit code and output. `onStderr` may act on progress lines. */
function cli(args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    // One Node process, so a signal reaches the rehearsal itself (tsx would relay it, and SIGKILL a busy child).
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/greenlight.ts', 'rehearse', ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, child);
    });
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// One gunicorn worker per instance: a light load needs no more, and each worker boots Django.
const LIGHT_LOAD = { concurrency: 4, ratePerSecond: 40, workers: 1 };

/** Every one of `expected` is in the timeline, in that order. */
function expectPhasesInOrder(report: RehearsalReport, expected: readonly string[]) {
  const phases = report.timeline.map((t) => t.phase);
  expect(expected.filter((p) => !phases.includes(p))).toEqual([]);
  const at = expected.map((p) => phases.indexOf(p));
  expect(at).toEqual([...at].sort((a, b) => a - b));
}

describe('rehearse: a healthy release through the CLI', () => {
  it('passes the gate, moves traffic to green, drains and stops blue, and drops nothing', async () => {
    const workDir = newWorkDir();
    const run = await cli(['--time-scale', '0.05', '--json', '--rate', '40', '--concurrency', '4', '--workers', '1', '--work-dir', workDir]);
    expect(run.stderr).toMatch(/gate pass: 2\/2 healthy in every target group for \d+ consecutive polls/);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as RehearsalReport;
    expect(report).toMatchObject({ scenario: 'healthy', environment: 'staging', ok: true, gate: { verdict: 'pass' } });
    expect(report.mismatch).toBeUndefined();
    const staging = loadSettings(cdkContext()).environments.staging;
    expect(report.healthCheck).toMatchObject({
      path: staging.healthCheck.path,
      intervalMs: staging.healthCheck.interval * 50,
      timeoutMs: staging.healthCheck.timeout * 50,
      healthyThreshold: staging.healthCheck.healthyThreshold,
    });
    expect(report.load.failed).toBe(0);
    expect(report.load.sent).toBeGreaterThan(100);
    expect(report.load.served).toBe(report.load.sent);
    expect(report.load.servedBy['release-rehearsal-a']).toBeGreaterThan(0);
    expect(report.load.servedBy['release-rehearsal-b']).toBeGreaterThan(0);
    expect(report.greenHealthyAfterMs).toBeGreaterThan(0);
    expect(report.servingAfter).toEqual({
      release: 'rehearsal-b',
      instances: [
        { name: 'green-1', running: true, health: 200 },
        { name: 'green-2', running: true, health: 200 },
      ],
    });
    // Smoke checks reached green through the preview route before the cutover; the bake watched it after.
    expect(report.smoke).toMatchObject({ verdict: 'pass', requests: staging.smoke?.paths.map((p) => ({ path: p, status: 200 })) });
    expect(report.smoke?.requests.every((r) => r.servedBy?.startsWith('release-rehearsal-b/'))).toBe(true);
    expect(report.bake).toMatchObject({ verdict: 'pass', durationMs: (staging.bake?.duration ?? 0) * 50, figures: { errors5xx: 0, healthyHosts: 2 } });
    expect(report.bake?.figures.requests).toBeGreaterThan(0);
    expect(report.outcome).toBe('live');
    expect(report.phaseFailed).toBeUndefined();
    expectPhasesInOrder(report, ['gate pass', 'smoke pass', 'cutover', 'bake pass', 'blue drained', 'blue stopped']);
  }, 120_000);
});

/**
 * A compact but valid environment; at time scale 0.1 its gate times out 6 s after green's first boot
 * has finished (releaseEndingOnBlue starts the gate then), so a failing release's reason is what green
 * answers once booted, however long a busy machine takes to boot it.
 */
function compactEnvironment(patch: Record<string, unknown> = {}) {
  const environment = {
    ...minimalEnvironment(),
    healthCheck: { path: '/health/', interval: 5, timeout: 4, healthyThreshold: 2, unhealthyThreshold: 10, matcher: '200' },
    gate: { consecutiveHealthyPolls: 3, pollInterval: 5, timeout: 60, maxReplacedInstances: 2 },
    ...patch,
  };
  return loadSettings({ app: 'greenlight-demo', environments: { rehearsal: environment } }).environments.rehearsal;
}

/** A gate with room to pass on a busy machine: 1 s checks with a 500 ms timeout, 30 s to pass. */
const PASSING_GATE = {
  healthCheck: { path: '/health/', interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 10, matcher: '200' },
  gate: { consecutiveHealthyPolls: 3, pollInterval: 5, timeout: 300, maxReplacedInstances: 2 },
};

/** Plays a release that must end with blue serving, and checks that while everything still runs. */
async function releaseEndingOnBlue(settings: EnvironmentSettings, name: ScenarioName, instances = 2) {
  let checked = false;
  const pids: number[] = [];
  const report = await rehearse({
    app: 'greenlight-demo',
    environment: 'rehearsal',
    settings,
    scenario: scenarioNamed(name),
    timeScale: 0.1,
    instances,
    ...LIGHT_LOAD,
    workDir: newWorkDir(),
    repoRoot: REPO_ROOT,
    gateAfterBoot: true,
    onFinished: async (live: LiveRehearsal) => {
      expect(live.servingRelease).toBe('rehearsal-a');
      // Blue's own processes still run and answer, directly and through the load balancer.
      for (const blue of live.blue) {
        expect(blue.running()).toBe(true);
        expect(blue.pids().every(alive)).toBe(true);
        expect(await probe(blue.address, blue.port, '/health/', blue.address)).toBe(200);
      }
      for (let i = 0; i < 4; i++) expect(await probe(live.frontend.address, live.frontend.port, '/', live.hostHeader)).toBe(200);
      // Green is gone: deregistered and its processes stopped.
      expect(live.green.flatMap((g) => g.pids()).some(alive)).toBe(false);
      const servers = await live.api.servers();
      expect(servers.filter((s) => s.backend === 'release-rehearsal-b')).toEqual([]);
      expect(servers.filter((s) => s.backend === 'release-rehearsal-a' && s.opState === 2 && s.adminState === 0)).toHaveLength(instances);
      pids.push(...live.blue.flatMap((b) => b.pids()));
      checked = true;
    },
  });
  expect(checked).toBe(true);
  // Every process is stopped once the rehearsal returns.
  expect(pids.some(alive)).toBe(false);
  return report;
}

describe('rehearse: failing releases roll back, and blue serves throughout', () => {
  // One instance a side: a gate that fails on one instance fails on every one, and each boot costs.
  const failingRelease = (name: ScenarioName) => releaseEndingOnBlue(compactEnvironment(), name, 1);

  const expectRolledBack = (report: RehearsalReport) => {
    expect(report.mismatch).toBeUndefined();
    expect(report.gate.verdict).toBe('fail');
    expect(report.load.failed, JSON.stringify({ load: report.load, timeline: report.timeline })).toBe(0);
    expect(report.load.sent).toBeGreaterThan(100);
    expect(Object.keys(report.load.servedBy)).toEqual(['release-rehearsal-a']);
    expect(report.servingAfter.instances.map((i) => i.health)).toEqual([200]);
    expect(report.timeline.map((t) => t.phase)).toContain('rollback');
    expect(report.ok).toBe(true);
  };

  it('redirect-301: fails on the 301 with the trailing-slash hint', async () => {
    const report = await failingRelease('redirect-301');
    expectRolledBack(report);
    expect(report.healthCheck.greenPath).toBe('/health');
    expect(report.gate.reason).toContain('green-1: Target.ResponseCodeMismatch [301]');
    expect(report.gate.reason).toMatch(/Hint for Target\.ResponseCodeMismatch \[301\]: .*trailing slash/);
  }, 90_000);

  it('db-down: PostgreSQL stops during green boot, readiness answers 503', async () => {
    const report = await failingRelease('db-down');
    expectRolledBack(report);
    expect(report.gate.reason).toMatch(/Hint for Target\.ResponseCodeMismatch \[503\]: the app reports itself not ready: check that the database answers SELECT 1/);
    expect(report.instances.every((i) => i.boot === 'started')).toBe(true);
    const phases = report.timeline.map((t) => t.phase);
    expect(phases.indexOf('green database stopped')).toBeLessThan(phases.indexOf('gate fail'));
  }, 90_000);
});

describe('rehearse: a release that fails after the cutover', () => {
  it('errors-after-cutover: the gate and smoke checks pass, the bake catches the 5xx and switches back to blue, which never stopped', async () => {
    const env = compactEnvironment({ ...PASSING_GATE, smoke: { paths: ['/'] }, bake: { duration: 60, maxErrorRate: 1, maxErrors: 0 } });
    const report = await releaseEndingOnBlue(env, 'errors-after-cutover', 1);
    expect(report.mismatch).toBeUndefined();
    expect(report).toMatchObject({ ok: true, outcome: 'rolled back after cutover', phaseFailed: 'bake', gate: { verdict: 'pass' } });
    expect(report.smoke).toMatchObject({ verdict: 'pass', requests: [{ path: '/', status: 200 }] });
    expect(report.bake?.verdict).toBe('fail');
    expect(report.bake?.reason).toMatch(/^bake: \d+(\.\d+)?% 5xx on the release's target group over \d+s \(limit 1%\): \d+ of \d+ requests$/);
    expect(report.bake?.figures.errors5xx).toBeGreaterThan(0);
    // The cause, from green's app log: the tables the fault dropped.
    expect(report.appException).toMatch(/^green-1's app log: django\.db\.utils\.OperationalError: no such table: /);
    // Every failed request fell between the cutover and the switch back, and the report says how many.
    expect(report.load.failed).toBeGreaterThan(0);
    expect(report.bake?.failedBeforeSwitchBack).toBe(report.load.failed);
    expect(report.bake?.failedAfterSwitchBack).toBe(0);
    expect(Object.keys(report.load.serverErrors)).toEqual(['500']);
    expect(report.load.connectionErrors).toEqual({});
    expect(report.bake?.detectionMs).toBeGreaterThan(0);
    expect(report.bake?.switchedBackAfterFirstFailureMs).toBeGreaterThanOrEqual(report.bake?.detectionMs ?? Infinity);
    expect(report.servingAfter).toMatchObject({ release: 'rehearsal-a', instances: [{ health: 200 }] });
    expectPhasesInOrder(report, ['gate pass', 'smoke pass', 'cutover', 'green database broken', 'bake fail', 'rolled back after cutover', 'rollback']);
    const phases = report.timeline.map((t) => t.phase);
    expect(phases).not.toContain('blue drained');
    expect(phases).not.toContain('blue stopped');
  }, 90_000);
});

describe('rehearse: a release whose migration drops a column blue reads (breaking-migration)', () => {
  it('is refused before green launches or migrates, and blue serves every request', async () => {
    const report = await releaseEndingOnBlue(compactEnvironment(), 'breaking-migration', 1);
    expect(report.mismatch).toBeUndefined();
    expect(report).toMatchObject({ ok: true, outcome: 'refused before green launched', phaseFailed: 'migrations', gate: { verdict: 'not run' } });
    expect(report.migrations).toMatchObject({ verdict: 'fail', refused: true, overridden: false });
    expect(report.migrations?.findings).toEqual([
      'BREAKS greenlight_example.0003_remove_greeting_text RemoveField: drops Greeting.text (column text): the live release still reads and writes it',
    ]);
    expect(report.load.failed).toBe(0);
    expect(report.load.sent).toBeGreaterThan(50);
    expect(Object.keys(report.load.servedBy)).toEqual(['release-rehearsal-a']);
    expect(report.instances.map((i) => i.name)).toEqual(['blue-1']);
    const phases = report.timeline.map((t) => t.phase);
    expectPhasesInOrder(report, ['load started', 'migration check failed', 'green refused', 'load stopped']);
    expect(phases).not.toContain('green launched');
  }, 90_000);

  it("with the check overridden, blue's requests fail from the moment green's migration ran, and the report names the cause", async () => {
    const report = await rehearse({
      app: 'greenlight-demo',
      environment: 'rehearsal',
      settings: compactEnvironment(PASSING_GATE),
      scenario: scenarioNamed('breaking-migration'),
      ignoreMigrationCheck: true,
      timeScale: 0.1,
      instances: 1,
      ...LIGHT_LOAD,
      workDir: newWorkDir(),
      repoRoot: REPO_ROOT,
    });
    expect(report.mismatch).toBeUndefined();
    expect(report).toMatchObject({ ok: true, outcome: 'live', gate: { verdict: 'pass' } });
    const m = report.migrations;
    expect(m).toMatchObject({ verdict: 'fail', refused: false, overridden: true, failuresBeforeMigration: 0 });
    // Every failed request was blue's, sent after green's migration ran and before the cutover.
    expect(m?.blueFailuresAfterMigration).toBeGreaterThan(0);
    expect(m?.blueFailuresAfterMigration).toBe(report.load.failed);
    expect(m?.blueFirstFailureAfterMs).toBeGreaterThanOrEqual(m?.greenMigratedAfterMs ?? Infinity);
    // Blue's broken answers are 5xx: no 4xx or redirect among them.
    expect({ clientErrors: report.load.clientErrors, redirects: report.load.redirects }).toEqual({ clientErrors: {}, redirects: {} });
    expect(Object.keys(report.load.serverErrors).length).toBeGreaterThan(0);
    expect(m?.cause).toMatch(/^green's migration greenlight_example\.0003_remove_greeting_text \(RemoveField Greeting\.text\) ran at [\d.]+ s; blue's first failed request followed [\d.]+ s later, and \d+ failed until the cutover$/);
    const cutover = report.timeline.find((t) => t.phase === 'cutover')?.atMs ?? 0;
    expect(m?.greenMigratedAfterMs).toBeLessThan(cutover);
  }, 90_000);
});

describe('rehearse: a smoke check that fails', () => {
  it('rolls back before the cutover: green never takes a user request, and the report names the phase', async () => {
    // A page green does not have: Django answers 404.
    const env = compactEnvironment({ ...PASSING_GATE, smoke: { paths: ['/', '/no-such-page/'] }, bake: { duration: 60 } });
    const report = await releaseEndingOnBlue(env, 'healthy', 1);
    expect(report).toMatchObject({ ok: false, outcome: 'rolled back before cutover', phaseFailed: 'smoke', gate: { verdict: 'pass' } });
    expect(report.mismatch).toBe('the smoke checks failed; expected them to pass');
    expect(report.smoke?.message).toMatch(/^smoke: GET \/no-such-page\/ answered 404 \(expected 200\): "/);
    expect(report.smoke?.requests.map((r) => [r.path, r.status, r.servedBy?.split('/')[0]])).toEqual([
      ['/', 200, 'release-rehearsal-b'],
      ['/no-such-page/', 404, 'release-rehearsal-b'],
    ]);
    expect(report.bake).toBeUndefined();
    expect(report.load.failed).toBe(0);
    expect(Object.keys(report.load.servedBy)).toEqual(['release-rehearsal-a']);
    const phases = report.timeline.map((t) => t.phase);
    expect(phases).toContain('smoke fail');
    expect(phases).toContain('rollback');
    expect(phases).not.toContain('cutover');
  }, 90_000);
});

describe('rehearse: Ctrl-C', () => {
  it('stops every process it started and exits 130', async () => {
    const workDir = newWorkDir();
    let interrupted = false;
    const run = await cli(['--time-scale', '0.05', '--rate', '20', '--concurrency', '2', '--workers', '1', '--instances', '1', '--work-dir', workDir], (stderr, child) => {
      if (!interrupted && stderr.includes('gate polling')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    expect(interrupted).toBe(true);
    expect(run.stderr).toContain("SIGINT: stopping the rehearsal's processes");
    expect(run.code).toBe(130);
    const frontendPort = Number(run.stderr.match(/HAProxy on 127\.0\.0\.1:(\d+)/)?.[1]);
    expect(await probe('127.0.0.1', frontendPort, '/', 'localhost', 1_000)).toBe('ECONNREFUSED');
    for (const instance of ['blue-1', 'green-1']) {
      const pidFile = path.join(workDir, instance, 'run', 'nginx.pid');
      if (fs.existsSync(pidFile)) expect(alive(Number(fs.readFileSync(pidFile, 'utf8')))).toBe(false);
    }
    const port = Number(run.stderr.match(/on 127\.0\.1\.1 port (\d+)/)?.[1]);
    expect(await probe('127.0.1.1', port, '/health/', '127.0.1.1', 1_000)).toBe('ECONNREFUSED');
  }, 60_000);
});
