// End to end, with real HAProxy, nginx, gunicorn and Django: release B goes live while A stays running
// as the standby, then a rollback within the window gates A's running backend and switches back.
// Nothing of A restarts, and no request fails.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { probe } from '../../lib/rehearsal/net';
import type { Instance } from '../../lib/rehearsal/instance';
import { type LiveRehearsal, rehearse } from '../../lib/rehearsal/release';
import { renderReport } from '../../lib/rehearsal/report';
import { scenarioNamed } from '../../lib/rehearsal/scenarios';
import { minimalEnvironment, REPO_ROOT } from '../helpers/settings';

const workDirs: string[] = [];
afterAll(() => workDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('rehearse --scenario rollback-warm', () => {
  it('switches back to the standby it kept running, with no request failed and nothing restarted', async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-rollback-warm-'));
    workDirs.push(workDir);
    const settings = loadSettings({
      app: 'greenlight-demo',
      environments: {
        rehearsal: {
          ...minimalEnvironment(),
          healthCheck: { path: '/health/', interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 10, matcher: '200' },
          gate: { consecutiveHealthyPolls: 3, pollInterval: 5, timeout: 300, maxReplacedInstances: 2 },
          standby: { window: 3600 },
        },
      },
    }).environments.rehearsal;
    // Blue's instances and their processes, as they stood by at the rollback command and after the switch back.
    const standby = (instances: readonly Instance[]) => instances.map((b) => ({ name: b.name, address: b.address, pids: b.pids() }));
    const atCommand: ReturnType<typeof standby> = [];
    const afterRollback: ReturnType<typeof standby> = [];
    let checked = false;
    const report = await rehearse({
      app: 'greenlight-demo',
      environment: 'rehearsal',
      settings,
      scenario: scenarioNamed('rollback-warm'),
      timeScale: 0.1,
      workers: 1,
      concurrency: 4,
      ratePerSecond: 40,
      workDir,
      repoRoot: REPO_ROOT,
      onRollbackCommand: async (blue) => {
        atCommand.push(...standby(blue));
      },
      onFinished: async (live: LiveRehearsal) => {
        expect(live.servingRelease).toBe('rehearsal-a');
        for (const blue of live.blue) {
          expect(blue.running()).toBe(true);
          expect(blue.pids().every(alive)).toBe(true);
          expect(await probe(blue.address, blue.port, '/health/', blue.address)).toBe(200);
        }
        for (let i = 0; i < 4; i++) expect(await probe(live.frontend.address, live.frontend.port, '/', live.hostHeader)).toBe(200);
        expect(live.green.flatMap((g) => g.pids()).some(alive)).toBe(false);
        const servers = await live.api.servers();
        expect(servers.filter((s) => s.backend === 'release-rehearsal-b')).toEqual([]);
        afterRollback.push(...standby(live.blue));
        checked = true;
      },
    });
    const context = JSON.stringify({ load: report.load, rollback: report.rollback, timeline: report.timeline });
    expect(checked).toBe(true);
    expect(afterRollback.flatMap((b) => b.pids).some(alive)).toBe(false);
    // The rollback relaunched nothing: the same instances, with the same nginx and gunicorn processes.
    expect(atCommand.length).toBeGreaterThan(0);
    expect(atCommand.every((b) => b.pids.length === 2)).toBe(true);
    expect(afterRollback).toEqual(atCommand);
    expect(report.mismatch, context).toBeUndefined();
    expect(report.outcome).toBe('switched back to the standby');
    expect(report.load.failed, context).toBe(0);
    expect(report.rollback?.failedDuringRollback).toBe(0);
    expect(report.rollback?.verdict).toBe('pass');
    // Both releases served: green after the cutover, blue before it and again after the rollback.
    expect(report.load.servedBy['release-rehearsal-a']).toBeGreaterThan(0);
    expect(report.load.servedBy['release-rehearsal-b']).toBeGreaterThan(0);
    // From the command to the switch, and until blue serves every request: figures of the report,
    // which docs/benchmarks.md quotes as measured. No bound on them here: the machine is shared.
    const { switchedAfterMs = -1, blueServesAllAfterMs = -1 } = report.rollback ?? {};
    expect(switchedAfterMs).toBeGreaterThan(0);
    expect(blueServesAllAfterMs).toBeGreaterThanOrEqual(switchedAfterMs);
    // Blue never stopped: no phase stops it, and its processes ran until the rehearsal ended (above).
    const phases = report.timeline.map((t) => t.phase);
    expect(phases).not.toContain('blue stopped');
    const order = ['cutover', 'standby', 'rollback command', 'rollback gate pass', 'switched back', 'rollback'];
    expect(order.map((p) => phases.indexOf(p))).toEqual([...order.map((p) => phases.indexOf(p))].sort((a, b) => a - b));
    expect(order.every((p) => phases.includes(p))).toBe(true);
    expect(report.ok).toBe(true);
    expect(renderReport(report)).toMatch(/rollback to the standby \(blue kept running\)\n {2}gate on blue {7}pass after \d+ polls/);
    expect(renderReport(report)).toMatch(
      /\n {2}switched back {6}\d+\.\d s after the rollback command\n {2}blue serves all {4}\d+\.\d s after the rollback command\n {2}failed requests {4}0 from the rollback command on\n/,
    );
  }, 300_000);
});
