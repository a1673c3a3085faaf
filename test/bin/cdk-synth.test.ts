// The real `cdk synth`, as a user runs it: offline, with no AWS credentials; and `greenlight deploy`
// of that assembly through the real `cdk deploy`, which must fail before any gate and say so.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli';
import { cdkContext, REPO_ROOT } from '../helpers/settings';

const APP = cdkContext().app;
const ENVIRONMENTS = Object.keys(cdkContext().environments);

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
  // One synth of every environment, shared by the tests that read it.
  let all: Awaited<ReturnType<typeof cdkSynth>>;
  beforeAll(async () => {
    all = await cdkSynth(['-c', 'release=r1']);
  }, 180_000);

  it('writes a template for every environment with no AWS credentials', () => {
    expect(all.stderr).not.toMatch(/greenlight:/);
    expect(all.code).toBe(0);
    const templates = readdirSync(all.out).filter((f) => f.endsWith('.template.json')).sort();
    expect(templates).toEqual(ENVIRONMENTS.map((env) => `greenlight-demo-${env}.template.json`).sort());
    const staging = JSON.parse(readFileSync(path.join(all.out, 'greenlight-demo-staging.template.json'), 'utf8'));
    expect(Object.values(staging.Resources).map((r) => (r as { Type: string }).Type)).toContain(
      'AWS::AutoScaling::AutoScalingGroup',
    );
  });

  it('greenlight deploy of the assembly fails before the gate, passes cdk’s reason through, and exits 1', async () => {
    expect(all.code).toBe(0);
    const run = await cli(['deploy', '--env', 'staging', '--release', 'r1', '--app-dir', all.out, '--interval', '1'], {}, 180_000);
    expect(run.code).toBe(1);
    const stdout = run.stdout.split('\n');
    expect(stdout[0]).toBe(
      `deploying release r1 to staging (${APP}-staging): cdk deploy ${APP}-staging --app ${all.out} --require-approval never --progress events`,
    );
    // cdk read the assembly, then stopped at the first AWS call.
    expect(run.stderr).toMatch(/no credentials have been configured|Unable to resolve AWS account/);
    expect(stdout.filter(Boolean).at(-1)).toBe(
      `FAILED: r1 in staging (${APP}-staging); cdk deploy exited 1 before the health gate started; cdk's output above says why. ` +
        `Common causes: no AWS credentials, an account not bootstrapped with \`cdk bootstrap\`, or no AMI published for the release (/greenlight/${APP}/releases/r1/ami-id).`,
    );
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/^\s+at /m);
  }, 200_000);

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
    [['-c', 'release=r1', '-c', 'env=nowhere'], `greenlight: -c env=nowhere: unknown environment; defined in cdk.json: ${ENVIRONMENTS.join(', ')}`],
  ])('fails clearly, without a stack trace, for %j', async (args, message) => {
    const result = await cdkSynth(args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(readdirSync(result.out).filter((f) => f.endsWith('.template.json'))).toEqual([]);
  }, 120_000);
});
