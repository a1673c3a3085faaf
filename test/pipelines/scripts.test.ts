// The shell the pipelines run: shellcheck on every script, then the bake step (skips a baked release,
// bakes and publishes a new one, stops when the lookup fails) and CircleCI's role assumption, run
// by bash with stand-ins for npx and packer on PATH.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import { circleciScripts, githubScripts, type Script, scriptNamed } from './pipelines';

const RELEASE = '2026.11.22-3f9c2ab';
const BAKE_STEP = "Bake the release's AMI, unless it exists";

// Each system runs steps with bash -eo pipefail.
const runBash = (script: string, cwd: string, env: Record<string, string>) =>
  spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });

describe('pipeline scripts: shellcheck', () => {
  const scripts: Script[] = [
    ...githubScripts(),
    ...circleciScripts({ 'role-arn-variable': 'AWS_DEPLOY_ROLE_ARN', 'session-name': 'greenlight-deploy-staging', environment: 'staging' }),
  ];

  it('finds the scripts of both systems', () => {
    expect(scripts.length).toBeGreaterThan(15);
  });

  it.each(scripts.map((s) => [s.where, s] as const))('%s', (_, { script }) => {
    const result = spawnSync('shellcheck', ['--shell=bash', '--severity=style', '-'], { input: script, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('would report a mistake (the check can fail)', () => {
    const result = spawnSync('shellcheck', ['--shell=bash', '-'], { input: 'ami=$(npx greenlight release-ami --release $RELEASE)\n', encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(result.stdout).toContain('SC2086');
  });
});

describe.each([
  // The GitHub step's env block sets AMI_USERS (default `[]`) and AMI_KMS_KEY_ID; CircleCI's context may.
  ['GitHub Actions', () => scriptNamed(githubScripts(), BAKE_STEP), { RELEASE, GITHUB_SHA: 'f'.repeat(40), AMI_USERS: '[]', AMI_KMS_KEY_ID: '' }],
  ['CircleCI', () => scriptNamed(circleciScripts(), BAKE_STEP), { CIRCLE_SHA1: 'f'.repeat(40) }],
])('%s bake step', (system, bakeScript, systemEnv) => {
  let dir: string;
  let log: string;
  let output: string;
  let state: string;

  // npx: `greenlight release-ami` prints the recorded AMI (the state file), `greenlight publish-ami`
  // records one; packer just logs. Every call goes to the log.
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'greenlight-bake-'));
    mkdirSync(path.join(dir, 'bin'));
    mkdirSync(path.join(dir, 'workspace'));
    copyFileSync(path.join(REPO_ROOT, 'cdk.json'), path.join(dir, 'cdk.json'));
    writeFileSync(path.join(dir, 'workspace', 'release-id'), `${RELEASE}\n`);
    log = path.join(dir, 'calls.log');
    output = path.join(dir, 'github-output');
    state = path.join(dir, 'recorded-ami');
    const stub = (name: string, body: string) => {
      writeFileSync(path.join(dir, 'bin', name), `#!/usr/bin/env bash\necho "${name} $*" >> "${log}"\n${body}\n`);
      chmodSync(path.join(dir, 'bin', name), 0o755);
    };
    stub(
      'npx',
      [
        'if [ "$1 $2" = "greenlight release-ami" ]; then',
        '  if [ -n "${STUB_FAIL:-}" ]; then echo "greenlight: no credentials" >&2; exit 2; fi',
        `  cat "${state}" 2>/dev/null || true`,
        'elif [ "$1 $2" = "greenlight publish-ami" ]; then',
        `  echo ami-0fresh > "${state}"`,
        'fi',
      ].join('\n'),
    );
    stub('packer', 'exit 0');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (recorded: string | undefined, extra: Record<string, string> = {}) => {
    rmSync(log, { force: true });
    rmSync(state, { force: true });
    writeFileSync(output, '');
    if (recorded) writeFileSync(state, `${recorded}\n`);
    const result = runBash(bakeScript().script, dir, {
      PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
      AWS_REGION: 'eu-west-1',
      GITHUB_OUTPUT: output,
      ...systemEnv,
      ...extra,
    });
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    return { ...result, calls, output: readFileSync(output, 'utf8') };
  };

  it('skips Packer when the release already has an AMI', () => {
    const result = run('ami-0baked');
    expect(result.status, result.stderr).toBe(0);
    expect(result.calls).toEqual([`npx greenlight release-ami --release ${RELEASE} --find-baked`]);
    expect(result.stdout).toContain(`release ${RELEASE} is already baked: ami-0baked`);
    if (system === 'GitHub Actions') expect(result.output).toBe('ami=ami-0baked\n');
    else expect(readFileSync(path.join(dir, 'workspace', 'ami'), 'utf8')).toBe('ami-0baked\n');
  });

  it('bakes with the template’s variables and publishes the AMI under the release when there is none', () => {
    const result = run(undefined);
    expect(result.status, result.stderr).toBe(0);
    const app = cdkContext().app;
    expect(result.calls.slice(0, 4)).toEqual([
      `npx greenlight release-ami --release ${RELEASE} --find-baked`,
      'packer init packer/plugins',
      `packer build -var app=${app} -var release=${RELEASE} -var region=eu-west-1 -var git_sha=${'f'.repeat(40)} -var ami_users=[] -var kms_key_id= packer/`,
      `npx greenlight publish-ami --manifest packer/manifest.json --release ${RELEASE}`,
    ]);
    if (system === 'GitHub Actions') expect(result.output).toBe('ami=ami-0fresh\n');
    else expect(readFileSync(path.join(dir, 'workspace', 'ami'), 'utf8')).toBe('ami-0fresh\n');
  });

  it('stops, and bakes nothing, when the lookup fails', () => {
    const result = run(undefined, { STUB_FAIL: '1' });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('greenlight: no credentials');
    expect(result.calls).toEqual([`npx greenlight release-ami --release ${RELEASE} --find-baked`]);
  });

  it('uses every variable the Packer template declares as required', () => {
    const template = readFileSync(path.join(REPO_ROOT, 'packer', 'greenlight.pkr.hcl'), 'utf8');
    const required = [...template.matchAll(/variable "(\w+)" \{([^}]*)\}/g)].filter(([, , body]) => !/default\s*=/.test(body)).map(([, name]) => name);
    expect(required.sort()).toEqual(['app', 'release']);
    for (const name of required) expect(bakeScript().script).toContain(`-var ${name}=`);
  });
});

describe('CircleCI assume-role command', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'greenlight-assume-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const script = () =>
    circleciScripts({ 'role-arn-variable': 'AWS_DEPLOY_ROLE_ARN', 'session-name': 'greenlight-deploy-staging' }).find((s) =>
      s.where.startsWith('commands.assume-role'),
    )!.script;
  const ROLE = 'arn:aws:iam::111111111111:role/greenlight-deploy-staging';

  it('hands the OIDC token and the context’s role to the AWS SDKs through BASH_ENV', () => {
    const bashEnv = path.join(dir, 'bash-env');
    writeFileSync(bashEnv, '');
    const base = { BASH_ENV: bashEnv, CIRCLE_OIDC_TOKEN_V2: 'header.payload.signature', AWS_DEPLOY_ROLE_ARN: ROLE, AWS_REGION: 'eu-west-1', CIRCLE_BUILD_NUM: '42' };
    const result = runBash(script(), dir, base);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`assuming ${ROLE} in eu-west-1`);
    // The next step's shell sources BASH_ENV, as CircleCI does.
    const next = spawnSync('bash', ['-c', `. "${bashEnv}"; echo "$AWS_ROLE_ARN|$AWS_ROLE_SESSION_NAME"; cat "$AWS_WEB_IDENTITY_TOKEN_FILE"`], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(next.stdout).toBe(`${ROLE}|greenlight-deploy-staging-42\nheader.payload.signature`);
  });

  it.each([
    ['CIRCLE_OIDC_TOKEN_V2', 'no OIDC token: run this job with a context'],
    ['AWS_DEPLOY_ROLE_ARN', 'set AWS_DEPLOY_ROLE_ARN in the context of this job'],
    ['AWS_REGION', 'set AWS_REGION in the context of this job'],
  ])('fails clearly without %s', (missing, message) => {
    const env: Record<string, string> = {
      BASH_ENV: path.join(dir, 'unused'),
      CIRCLE_OIDC_TOKEN_V2: 't',
      AWS_DEPLOY_ROLE_ARN: ROLE,
      AWS_REGION: 'eu-west-1',
      CIRCLE_BUILD_NUM: '1',
    };
    env[missing] = '';
    const result = runBash(script(), dir, env);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(message);
  });
});
