// The real `cdk synth`, as a user runs it: offline, with no AWS credentials; and `greenlight deploy`
// of that assembly through the real `cdk deploy`, which must fail before any gate and say so. Each
// start of the cdk CLI, and each synth with CDK's built-in template validation, costs seconds of
// CPU, so the other cases run cdk.json's app command directly, the way cdk runs it; one error still
// goes through the cdk CLI, to show that the app's message reaches the user through it.
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
const BIN = path.join(REPO_ROOT, 'node_modules', '.bin');

const execute = promisify(execFile);
const outDirs: string[] = [];

interface Synth {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly out: string;
}

/**
 * Runs a synth with no AWS credentials into a fresh output directory, which `run` is given;
 * resolves with exit code and output, never rejects.
 */
async function synthInto(run: (out: string) => [command: string, args: string[], env?: NodeJS.ProcessEnv]): Promise<Synth> {
  const out = mkdtempSync(path.join(tmpdir(), 'greenlight-synth-'));
  outDirs.push(out);
  const [command, args, env] = run(out);
  const offline: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_CONFIG_FILE: '/dev/null',
    CDK_DISABLE_VERSION_CHECK: '1',
  };
  try {
    const { stdout, stderr } = await execute(command, args, { cwd: REPO_ROOT, env: { ...offline, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr, out };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr, out };
  }
}

/** `cdk synth` through the cdk CLI. */
const cdkSynth = (args: string[]): Promise<Synth> =>
  synthInto((out) => [path.join(BIN, 'cdk'), ['synth', '--quiet', '--no-notices', '--output', out, ...args]]);

/** The context `cdk synth` hands the app besides cdk.json's and the -c values (aws-cdk 2.1148). */
const CDK_CLI_CONTEXT = {
  'aws:cdk:enable-path-metadata': true,
  'aws:cdk:enable-asset-metadata': true,
  'aws:cdk:version-reporting': true,
  'aws:cdk:bundling-stacks': ['**'],
  '@aws-cdk/core:failSynthOnValidationErrors': false,
};

/**
 * cdk.json's app, run as `cdk synth -c key=value…` runs it: all of its context as JSON in
 * CDK_CONTEXT_JSON, the output directory in CDK_OUTDIR. tsx starts from node_modules/.bin, where
 * npx finds it.
 */
function appSynth(values: Record<string, string>, env: NodeJS.ProcessEnv = {}): Promise<Synth> {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { app: string; context: object };
  expect(cdkJson.app).toBe('npx tsx bin/app.ts');
  const context = JSON.stringify({ ...cdkJson.context, ...CDK_CLI_CONTEXT, ...values });
  return synthInto((out) => [path.join(BIN, 'tsx'), ['bin/app.ts'], { ...env, CDK_CONTEXT_JSON: context, CDK_OUTDIR: out }]);
}

const templatesIn = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.template.json')).sort();
const template = (dir: string, stack: string): unknown => JSON.parse(readFileSync(path.join(dir, `${stack}.template.json`), 'utf8'));

afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

describe('cdk synth', () => {
  // One synth of every environment through the cdk CLI, shared by the tests that read it.
  let all: Synth;
  beforeAll(async () => {
    all = await cdkSynth(['-c', 'release=r1']);
  }, 180_000);

  it('writes a template for every environment with no AWS credentials', () => {
    expect(all.stderr).not.toMatch(/greenlight:/);
    expect(all.code).toBe(0);
    expect(templatesIn(all.out)).toEqual(ENVIRONMENTS.map((env) => `greenlight-demo-${env}.template.json`).sort());
    const staging = template(all.out, 'greenlight-demo-staging') as { Resources: Record<string, { Type: string }> };
    expect(Object.values(staging.Resources).map((r) => r.Type)).toContain('AWS::AutoScaling::AutoScalingGroup');
  });

  it('greenlight deploy of the assembly with no AWS credentials stops at its first AWS read, in one line, before cdk runs, and exits 2', async () => {
    expect(all.code).toBe(0);
    // No credentials anywhere (the test environment has none and no instance metadata): deploy reads the
    // live release before anything else, and that read is where it must stop.
    const run = await cli(['deploy', '--env', 'staging', '--release', 'r1', '--app-dir', all.out, '--interval', '1'], {}, 180_000);
    expect(run.code).toBe(2);
    expect(run.stdout).not.toContain('cdk deploy');
    expect(run.stderr.trim().split('\n')).toEqual([
      `greenlight: reading /greenlight/${APP}/staging/live-release: CredentialsProviderError: Could not load credentials from any providers`,
    ]);
  }, 200_000);

  it('synthesizes one environment with -c env, the same template as the synth of all', async () => {
    // CDK's built-in template validation is off for this run (CDK_VALIDATION=false): it only warns,
    // starting it costs more CPU than the synth itself, and the synth of all ran it on this template.
    const result = await appSynth({ release: 'r1', env: 'staging' }, { CDK_VALIDATION: 'false' });
    expect(result.stderr).not.toMatch(/greenlight:/);
    expect(result.code).toBe(0);
    expect(templatesIn(result.out)).toEqual(['greenlight-demo-staging.template.json']);
    expect(template(result.out, 'greenlight-demo-staging')).toEqual(template(all.out, 'greenlight-demo-staging'));
  }, 120_000);

  it.each([
    ['through the cdk CLI', '-c release=r1 -c env=nowhere', () => cdkSynth(['-c', 'release=r1', '-c', 'env=nowhere']),
      `greenlight: -c env=nowhere: unknown environment; defined in cdk.json: ${ENVIRONMENTS.join(', ')}`],
    ['from the app entry', 'no -c release', () => appSynth({}), 'greenlight: -c release=<id> is required: the release to deploy, e.g. -c release=2026.11.22-3f9c2ab'],
    ['from the app entry', '-c release=bad/id', () => appSynth({ release: 'bad/id' }), 'greenlight: -c release=bad/id: not a valid release id'],
  ])('fails clearly %s, without a stack trace, for %s', async (_where, _args, synth, message) => {
    const result = await synth();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
    expect(templatesIn(result.out)).toEqual([]);
  }, 120_000);
});
