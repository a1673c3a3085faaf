// Progressive traffic end to end, with real HAProxy, nginx, gunicorn, Django and PostgreSQL: HAProxy
// gives green 10% of the listener's requests, and the same pure verdicts as the AWS step resource
// judge the step from HAProxy's counters and request log. A release that breaks once it serves, and
// one whose pages are slower, are both refused at the first step while blue serves the rest. One
// instance a side, and a time scale of 0.1, keep each near half a minute.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import { probe } from '../../lib/rehearsal/net';
import { rehearse, type LiveRehearsal } from '../../lib/rehearsal/release';
import { scenarioNamed, type ScenarioName } from '../../lib/rehearsal/scenarios';
import { minimalEnvironment, REPO_ROOT } from '../helpers/settings';

const workDirs: string[] = [];
afterAll(() => workDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

/** A gate with room to pass on a busy machine, smoke checks, and one step of 10% for 6 s at time scale 0.1. */
const settings = loadSettings({
  app: 'greenlight-demo',
  environments: {
    rehearsal: {
      ...minimalEnvironment(),
      healthCheck: { path: '/health/', interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 10, matcher: '200' },
      gate: { consecutiveHealthyPolls: 3, pollInterval: 5, timeout: 300, maxReplacedInstances: 2 },
      smoke: { paths: ['/'] },
      traffic: { steps: [10], stepDuration: 60, maxExtension: 120, minRequests: 15 },
    },
  },
}).environments.rehearsal;

async function refusedAtFirstStep(name: ScenarioName) {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-traffic-'));
  workDirs.push(workDir);
  let checked = false;
  const report = await rehearse({
    app: 'greenlight-demo',
    environment: 'rehearsal',
    settings,
    scenario: scenarioNamed(name),
    timeScale: 0.1,
    instances: 1,
    concurrency: 4,
    ratePerSecond: 40,
    workers: 2,
    workDir,
    repoRoot: REPO_ROOT,
    onFinished: async (live: LiveRehearsal) => {
      // Blue serves every request again, and green is gone.
      expect(live.servingRelease).toBe('rehearsal-a');
      for (let i = 0; i < 10; i++) expect(await probe(live.frontend.address, live.frontend.port, '/', live.hostHeader)).toBe(200);
      expect((await live.api.servers()).filter((s) => s.backend === 'release-rehearsal-b')).toEqual([]);
      checked = true;
    },
  });
  expect(checked).toBe(true);
  expect(report.mismatch, report.traffic?.reason).toBeUndefined();
  expect(report).toMatchObject({ outcome: 'refused at a traffic step', phaseFailed: 'traffic', gate: { verdict: 'pass' }, smoke: { verdict: 'pass' } });
  expect(report.traffic).toMatchObject({ verdict: 'fail', step: 1, weight: 10 });
  expect(report.bake).toBeUndefined();
  expect(report.timeline.map((t) => t.phase)).not.toContain('cutover');
  // Green had a share of the requests, blue the rest.
  expect(report.load.servedBy['release-rehearsal-b']).toBeGreaterThan(0);
  expect(report.load.servedBy['release-rehearsal-a']).toBeGreaterThan(report.load.servedBy['release-rehearsal-b'] ?? 0);
  return report;
}

describe('rehearse with traffic steps', () => {
  it('errors-after-cutover: the first step sees the 5xx on green\'s share and puts every request back on blue', async () => {
    const report = await refusedAtFirstStep('errors-after-cutover');
    expect(report.traffic?.reason).toMatch(/^traffic step 1 \(10%\): \d+(\.\d+)?% 5xx on the release's target group over \d+s \(limit 1%\): \d+ of \d+ requests$/);
    // Every failed request fell within the step, and only green's share failed.
    expect(report.load.failed).toBeGreaterThan(0);
    expect(report.traffic?.failedDuringSteps).toBe(report.load.failed);
    expect(report.traffic?.failedAfterRestore).toBe(0);
    expect(report.ok).toBe(true);
  }, 120_000);

  it("latency-regression: the first step compares green's p99 with blue's and refuses green, with both in the report", async () => {
    const report = await refusedAtFirstStep('latency-regression');
    expect(report.traffic?.reason).toMatch(/^traffic step 1 \(10%\): p99 (\d+) ms vs live (\d+) ms \(limit 1\.5× and \+100 ms\) over \d+s: /);
    const [, green, blue] = /p99 (\d+) ms vs live (\d+) ms/.exec(report.traffic?.reason ?? '') ?? [];
    expect(Number(green)).toBeGreaterThanOrEqual(300);
    expect(Number(green) - Number(blue)).toBeGreaterThan(100);
    expect(report.traffic?.release.p99Ms).toBe(Number(green));
    expect(report.traffic?.live.p99Ms).toBe(Number(blue));
    // Slow, not broken: nothing failed.
    expect(report.load.failed).toBe(0);
    expect(report.ok).toBe(true);
  }, 120_000);
});
