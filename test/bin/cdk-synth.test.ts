// The real `cdk synth`, as a user runs it: offline, with no AWS credentials.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/settings';

const run = promisify(execFile);
const outDirs: string[] = [];

/** Runs `cdk synth` with no credentials; resolves with exit code and output, never rejects. */
async function cdkSynth(args: string[]): Promise<{ code: number; stdout: string; stderr: string; out: string }> {
  const out = mkdtempSync(path.join(tmpdir(), 'greenlight-synth-'));
  outDirs.push(out);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_CONFIG_FILE: '/dev/null',
    CDK_DISABLE_VERSION_CHECK: '1',
  };
  try {
    const { stdout, stderr } = await run(
      path.join(REPO_ROOT, 'node_modules', '.bin', 'cdk'),
      ['synth', '--quiet', '--no-notices', '--output', out, ...args],
      { cwd: REPO_ROOT, env, timeout: 120_000 },
    );
    return { code: 0, stdout, stderr, out };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, out };
  }
}

afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

describe('cdk synth', () => {
  it('writes a template for every environment with no AWS credentials', async () => {
    const result = await cdkSynth(['-c', 'release=r1']);
    expect(result.stderr).not.toMatch(/greenlight:/);
    expect(result.code).toBe(0);
    const templates = readdirSync(result.out).filter((f) => f.endsWith('.template.json')).sort();
    expect(templates).toEqual(['greenlight-demo-production.template.json', 'greenlight-demo-staging.template.json']);
    const staging = JSON.parse(readFileSync(path.join(result.out, templates[1]), 'utf8'));
    expect(Object.values(staging.Resources).map((r) => (r as { Type: string }).Type)).toContain(
      'AWS::AutoScaling::AutoScalingGroup',
    );
  }, 120_000);

  it('synthesizes one environment with -c env', async () => {
    const result = await cdkSynth(['-c', 'release=r1', '-c', 'env=staging']);
    expect(result.code).toBe(0);
    expect(readdirSync(result.out).filter((f) => f.endsWith('.template.json'))).toEqual([
      'greenlight-demo-staging.template.json',
    ]);
  }, 120_000);

  it.each([
    [[], 'greenlight: -c release=<id> is required: the release to deploy, e.g. -c release=2026.11.22-3f9c2ab'],
    [['-c', 'release=bad/id'], 'greenlight: -c release=bad/id: not a valid release id'],
    [['-c', 'release=r1', '-c', 'env=qa'], 'greenlight: -c env=qa: unknown environment; defined in cdk.json: staging, production'],
  ])('fails clearly, without a stack trace, for %j', async (args, message) => {
    const result = await cdkSynth(args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(readdirSync(result.out).filter((f) => f.endsWith('.template.json'))).toEqual([]);
  }, 120_000);
});
