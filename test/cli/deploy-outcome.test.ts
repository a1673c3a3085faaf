import { describe, expect, it } from 'vitest';
import { deployOutcome, type DeployResult } from '../../lib/cli/deploy-outcome';
import { bakeRecord, progressRecord, smokeRecord, trafficRecord } from '../helpers/progress';

const T0 = Date.UTC(2026, 10, 22, 12);
const base: DeployResult = {
  release: 'r2',
  envName: 'production',
  stackName: 'shop-production',
  cdkExitCode: 0,
  startedAt: T0,
  amiParameterName: '/greenlight/shop/releases/r2/ami-id',
};
const gate = (verdict: 'wait' | 'pass' | 'fail', lastMessage: string, startedAt = T0 + 120_000) =>
  progressRecord('r2', { verdict, lastMessage, startedAt, lastPollAt: startedAt + 60_000 });

describe('deployOutcome', () => {
  it('succeeds when cdk succeeded and this deploy’s gate passed', () => {
    expect(deployOutcome({ ...base, record: gate('pass', '2/2 healthy for 3 consecutive polls after 45s') })).toEqual({
      exitCode: 0,
      lines: ['DEPLOYED: r2 in production (shop-production); the gate passed: 2/2 healthy for 3 consecutive polls after 45s'],
    });
  });

  it('fails with the diagnosis when the gate failed', () => {
    const outcome = deployOutcome({
      ...base,
      cdkExitCode: 1,
      record: gate('fail', 'Gate timed out after 900s with 0/2 healthy. i-a: Target.ResponseCodeMismatch [301]'),
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.lines).toEqual([
      'FAILED: r2 in production (shop-production); cdk deploy exited 1: the release did not pass the health gate. The stack rolled back; the previous release still serves.',
      'deploy failed in gate: Gate timed out after 900s with 0/2 healthy. i-a: Target.ResponseCodeMismatch [301]',
    ]);
  });

  it('ignores a verdict left by an earlier deploy of the same release', () => {
    const earlier = gate('fail', 'an old failure', T0 - 3600_000);
    const outcome = deployOutcome({ ...base, cdkExitCode: 1, record: earlier });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.lines.join('\n')).not.toContain('an old failure');
    expect(outcome.lines[0]).toContain('before the health gate started');
    expect(outcome.lines[0]).toContain('/greenlight/shop/releases/r2/ami-id');
  });

  it('tolerates a gate clock a little behind this machine', () => {
    expect(deployOutcome({ ...base, record: gate('pass', 'ok', T0 - 30_000) }).lines[0]).toContain('the gate passed: ok');
  });

  it('explains a cdk success with no gate: the release was already there', () => {
    expect(deployOutcome(base)).toEqual({
      exitCode: 0,
      lines: ['DEPLOYED: r2 in production (shop-production); no health gate ran, so the stack already had this release and nothing was replaced'],
    });
  });

  it('fails when cdk failed after the gate passed, and says where to look', () => {
    const outcome = deployOutcome({ ...base, cdkExitCode: 1, record: gate('pass', '2/2 healthy') });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.lines[0]).toContain('after the gate passed (2/2 healthy). CloudFormation rolled the stack back');
  });

  it('fails when cdk failed while the gate waited', () => {
    const outcome = deployOutcome({ ...base, cdkExitCode: 1, record: gate('wait', '1/2 healthy') });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.lines[0]).toContain('while the gate was still waiting (1/2 healthy)');
  });

  it('never reports success when the gate failed, whatever cdk said', () => {
    expect(deployOutcome({ ...base, record: gate('fail', 'x') }).exitCode).toBe(1);
  });

  it('names the smoke checks when they failed after the gate passed', () => {
    const outcome = deployOutcome({
      ...base,
      cdkExitCode: 1,
      record: gate('pass', '2/2 healthy'),
      smoke: smokeRecord('r2', 'fail', 'smoke: GET /orders/ answered 500 (expected 200): "boom"', T0 + 300_000),
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.lines[0]).toContain('failed its smoke checks on the preview listener, so the serving listener never moved to it');
    expect(outcome.lines.at(-1)).toBe('deploy failed in smoke: GET /orders/ answered 500 (expected 200): "boom"');
  });

  it('names the traffic step that refused the release, with both releases\' figures', () => {
    const message = 'traffic step 1 (10%): p99 331 ms vs live 24 ms (limit 1.5× and +100 ms) over 60s: 0 of 120 requests, live 0 of 1080';
    const outcome = deployOutcome({
      ...base,
      cdkExitCode: 1,
      record: gate('pass', '2/2 healthy'),
      smoke: smokeRecord('r2', 'pass', 'smoke: 2 paths answered as expected', T0 + 300_000),
      traffic: trafficRecord('r2', [10], { verdict: 'fail', lastMessage: message, startedAt: T0 + 310_000 }),
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.lines[0]).toContain('refused during the traffic steps, judged against the live release. Every request went back to the live release');
    expect(outcome.lines.at(-1)).toBe('deploy failed in traffic: step 1 (10%): p99 331 ms vs live 24 ms (limit 1.5× and +100 ms) over 60s: 0 of 120 requests, live 0 of 1080');
  });

  it('names the bake when it failed after the cutover, with its figures', () => {
    const message = "bake: 7.4% 5xx on the release's target group over 240s (limit 1%): 74 of 1000 requests";
    const outcome = deployOutcome({
      ...base,
      cdkExitCode: 1,
      record: gate('pass', '2/2 healthy'),
      smoke: smokeRecord('r2', 'pass', 'smoke: 2 paths answered as expected', T0 + 300_000),
      bake: bakeRecord('r2', { verdict: 'fail', lastMessage: message, startedAt: T0 + 310_000 }),
    });
    expect(outcome.lines[0]).toContain("CloudFormation's rollback pointed the serving listener back at the previous release");
    expect(outcome.lines.at(-1)).toBe("deploy failed in bake: 7.4% 5xx on the release's target group over 240s (limit 1%): 74 of 1000 requests");
  });

  it("ignores an earlier deploy's failed bake and says where to look instead", () => {
    const outcome = deployOutcome({
      ...base,
      cdkExitCode: 1,
      record: gate('pass', '2/2 healthy'),
      bake: bakeRecord('r2', { verdict: 'fail', lastMessage: 'bake: an old failure', startedAt: T0 - 3600_000 }),
    });
    expect(outcome.lines.join('\n')).not.toContain('an old failure');
    expect(outcome.lines[0]).toContain('after the gate passed (2/2 healthy)');
  });

  it('never reports success when the bake failed, whatever cdk said, and adds a passed bake to the success line', () => {
    const failedBake = bakeRecord('r2', { verdict: 'fail', lastMessage: 'bake: alarm "p99" is in ALARM after 60s', startedAt: T0 + 300_000 });
    expect(deployOutcome({ ...base, record: gate('pass', 'ok'), bake: failedBake })).toEqual({
      exitCode: 1,
      lines: ['FAILED: cdk deploy exited 0, yet the bake recorded a failure for r2 in production (shop-production)', 'deploy failed in bake: alarm "p99" is in ALARM after 60s'],
    });
    const passed = bakeRecord('r2', { verdict: 'pass', lastMessage: 'bake: passed after 780s: 9000 requests, 0 5xx', startedAt: T0 + 300_000 });
    expect(deployOutcome({ ...base, record: gate('pass', 'ok'), bake: passed }).lines).toEqual([
      'DEPLOYED: r2 in production (shop-production); the gate passed: ok; bake: passed after 780s: 9000 requests, 0 5xx',
    ]);
  });

  it('leaves out the AMI hint when an AMI was given', () => {
    const outcome = deployOutcome({ ...base, cdkExitCode: 1, amiParameterName: undefined });
    expect(outcome.lines[0]).not.toContain('AMI');
  });
});
