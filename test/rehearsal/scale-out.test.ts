// A scaling policy raising green's desired capacity mid-gate, with real HAProxy, nginx, gunicorn and
// Django: the gate (the same pure core as the Lambda) must restart its count and wait for the new
// instance before it passes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { rehearse, type LiveRehearsal } from '../../lib/rehearsal/release';
import { scenarioNamed } from '../../lib/rehearsal/scenarios';
import { minimalEnvironment, REPO_ROOT } from '../helpers/settings';

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-scale-out-'));
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('rehearse: scale-out-mid-gate', () => {
  const settings = loadSettings({
    app: 'greenlight-demo',
    environments: {
      rehearsal: {
        ...minimalEnvironment(),
        // At time scale 0.1: 1 s checks, 0.5 s polls, 30 s for the gate.
        healthCheck: { path: '/health/', interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 10, matcher: '200' },
        gate: { consecutiveHealthyPolls: 3, pollInterval: 5, timeout: 300, maxReplacedInstances: 0 },
      },
    },
  });

  it('the gate waits for the instance a policy adds after its first healthy poll, then passes on three', async () => {
    const lines: string[] = [];
    const pids: number[] = [];
    let greenAtEnd = 0;
    const report = await rehearse({
      app: settings.app,
      environment: 'rehearsal',
      settings: settings.environments.rehearsal,
      scenario: scenarioNamed('scale-out-mid-gate'),
      timeScale: 0.1,
      workers: 1,
      concurrency: 4,
      ratePerSecond: 40,
      workDir,
      repoRoot: REPO_ROOT,
      log: (line) => lines.push(line),
      onFinished: async (live: LiveRehearsal) => {
        greenAtEnd = live.green.length;
        pids.push(...live.green.flatMap((g) => g.pids()), ...live.blue.flatMap((b) => b.pids()));
        const serving = (await live.api.servers()).filter((s) => s.backend === 'release-rehearsal-b' && s.opState === 2);
        expect(serving.map((s) => s.name).sort()).toEqual(['green-1', 'green-2', 'green-3']);
      },
    });
    expect(pids.some(alive)).toBe(false);

    expect(report.mismatch).toBeUndefined();
    expect(report).toMatchObject({ ok: true, outcome: 'live', gate: { verdict: 'pass' } });
    expect(report.gate.reason).toMatch(/^3\/3 healthy in every target group for 3 consecutive polls/);
    expect(greenAtEnd).toBe(3);
    expect(report.instances.filter((i) => i.release === 'rehearsal-b')).toEqual([
      expect.objectContaining({ name: 'green-1', boot: 'started' }),
      expect.objectContaining({ name: 'green-2', boot: 'started' }),
      expect.objectContaining({ name: 'green-3', address: '127.0.1.5', boot: 'started' }),
    ]);
    // The gate saw the raised desired capacity and waited: the count restarted below three.
    expect(lines.some((l) => /gate: 2\/3 healthy; .*desired capacity raised to 3 \(deployed at 2\)/.test(l))).toBe(true);
    const phases = report.timeline.map((t) => t.phase);
    const order = ['green healthy', 'green scaled out', 'green-3 booted', 'gate pass', 'cutover'];
    expect(order.map((p) => phases.indexOf(p)).every((i) => i >= 0)).toBe(true);
    expect(order.map((p) => phases.indexOf(p))).toEqual([...order.map((p) => phases.indexOf(p))].sort((a, b) => a - b));
    expect(report.load.failed).toBe(0);
    expect(report.servingAfter.instances).toHaveLength(3);
  }, 90_000);
});
