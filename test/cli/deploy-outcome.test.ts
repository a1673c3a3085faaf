import { describe, expect, it } from 'vitest';
import { deployOutcome, type DeployResult } from '../../lib/cli/deploy-outcome';
import { progressRecord } from '../helpers/progress';

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
      'diagnosis: Gate timed out after 900s with 0/2 healthy. i-a: Target.ResponseCodeMismatch [301]',
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

  it('leaves out the AMI hint when an AMI was given', () => {
    const outcome = deployOutcome({ ...base, cdkExitCode: 1, amiParameterName: undefined });
    expect(outcome.lines[0]).not.toContain('AMI');
  });
});
