// `greenlight add-env`: the pure transforms, then the command on a copy of this project, after which
// the real `cdk synth` of the copy writes the new environment's template, and the tests that read
// the set of environments (pipelines, IAM, configuration) run against that copy and must still pass.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { addToCdkJson, addToCircleci, addToGithubRelease, addToGithubRollback, checkNewEnvironment } from '../../lib/cli/add-env';
import { formatJson } from '../../lib/config/project';
import { UserError } from '../../lib/errors';
import { cdkContext, REPO_ROOT } from '../helpers/settings';

const read = (file: string, root = REPO_ROOT) => readFileSync(path.join(root, file), 'utf8');
const QA = { name: 'qa', account: '333333333333', region: 'eu-west-2' };

describe('add-env: checks its input', () => {
  it.each([
    [['QA', '333333333333', 'eu-west-2'], 'environment name "QA": expected 1–16 lowercase letters or digits, starting with a letter, as cdk.json\'s environments are named'],
    // The schema refuses a hyphen, so add-env does too instead of writing a cdk.json that no longer loads.
    [['qa-2', '333333333333', 'eu-west-2'], 'environment name "qa-2": expected 1–16 lowercase letters or digits, starting with a letter'],
    [['staging2025westeu', '333333333333', 'eu-west-2'], 'environment name "staging2025westeu": expected 1–16 lowercase letters or digits'],
    [['qa', '3333', 'eu-west-2'], '--account "3333": '],
    [['qa', '333333333333', 'moon-1'], '--region "moon-1": '],
  ])('%j → %s', ([name, account, region], message) => {
    expect(() => checkNewEnvironment(name, account, region)).toThrow(UserError);
    expect(() => checkNewEnvironment(name, account, region)).toThrow(message);
  });
});

describe('add-env: transforms', () => {
  const cdkJson = JSON.parse(read('cdk.json'));

  it('adds the environment and offline availability zones to cdk.json, and refuses one that exists', () => {
    const out = addToCdkJson(cdkJson, QA);
    expect(out.context.environments.qa).toEqual({ account: '333333333333', region: 'eu-west-2', vpc: { maxAzs: 2 }, tags: { team: 'platform', environment: 'qa' } });
    expect(out.context['availability-zones:account=333333333333:region=eu-west-2']).toEqual(['eu-west-2a', 'eu-west-2b', 'eu-west-2c']);
    expect(Object.keys(out.context.environments)).toEqual([...Object.keys(cdkJson.context.environments), 'qa']);
    expect(() => addToCdkJson(out, QA)).toThrow('environment qa is already in cdk.json');
  });

  it('writes cdk.json back in its own style', () => {
    expect(`${formatJson(cdkJson)}\n`).toBe(read('cdk.json'));
  });

  it('changes the pipelines only by the new environment', () => {
    const release = addToGithubRelease(read('.github/workflows/release.yml'), QA, 'staging');
    expect(parse(release).jobs['deploy-qa']).toEqual({
      needs: ['bake', 'synth', 'deploy-staging'],
      uses: './.github/workflows/deploy.yml',
      permissions: { contents: 'read', 'id-token': 'write' },
      with: { environment: 'qa', release: '${{ needs.bake.outputs.release }}', ami: '${{ needs.bake.outputs.ami }}' },
    });
    // Everything else is as it was, comments included.
    expect(release.replace(/\n {2}deploy-qa:[\s\S]*$/, '\n')).toBe(read('.github/workflows/release.yml'));
    expect(() => addToGithubRelease(release, QA, 'staging')).toThrow('release.yml already has a job deploy-qa');

    const rollback = addToGithubRollback(read('.github/workflows/rollback.yml'), QA);
    expect(rollback).toBe(read('.github/workflows/rollback.yml').replace('options: [staging, production]', 'options: [staging, production, qa]'));

    const circleci = addToCircleci(read('.circleci/config.yml'), QA, 'staging');
    const added = ['      - deploy:', '          name: deploy-qa', '          environment: qa', '          context: greenlight-qa', '          serial-group: << pipeline.project.slug >>/deploy-qa', '          requires: [deploy-staging]', ''].join('\n');
    expect(circleci.replace(added, '')).toBe(read('.circleci/config.yml'));
    expect(circleci).toContain(added);
  });
});

describe('add-env on a copy of the project, then its tests', () => {
  let copy: string;
  beforeAll(() => {
    copy = mkdtempSync(path.join(tmpdir(), 'greenlight-add-env-'));
    // .cache holds the chroot bake test's root filesystem, with /proc mounted while that test runs.
    const skip = new Set(['node_modules', '.git', 'cdk.out', '.rehearsal', '.cache']);
    cpSync(REPO_ROOT, copy, { recursive: true, filter: (src) => !skip.has(path.basename(src)) || src === REPO_ROOT });
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  const run = (command: string, args: string[], timeout: number, extra: NodeJS.ProcessEnv = {}) => {
    // The inner vitest must not take this run's worker settings for its own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
    return spawnSync(command, args, {
      cwd: copy,
      encoding: 'utf8',
      timeout,
      env: { ...env, AWS_EC2_METADATA_DISABLED: 'true', NO_COLOR: '1', CDK_DISABLE_VERSION_CHECK: '1', ...extra },
    });
  };

  it('adds qa everywhere with one command, refuses to add it twice, synthesizes qa, and every pipeline, IAM and config test passes', () => {
    const tsx = path.join(copy, 'node_modules', '.bin', 'tsx');
    const added = run(tsx, ['bin/greenlight.ts', 'add-env', 'qa', '--account', '333333333333', '--region', 'eu-west-2'], 60_000);
    expect(added.stderr.replace(/npm warn.*\n/g, '')).toBe('');
    expect(added.status).toBe(0);
    expect(added.stdout).toContain('added qa: cdk.json, .github/workflows/release.yml, .github/workflows/rollback.yml, .circleci/config.yml');
    const { qa, ...others } = JSON.parse(read('cdk.json', copy)).context.environments;
    expect(qa).toMatchObject({ account: '333333333333', region: 'eu-west-2' });
    expect(others).toEqual(cdkContext().environments);

    const again = run(tsx, ['bin/greenlight.ts', 'add-env', 'qa', '--account', '333333333333', '--region', 'eu-west-2'], 60_000);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('greenlight: environment qa is already in cdk.json');

    // The real `cdk synth`, offline, as a user runs it: a template for qa, in qa's account and region,
    // beside the others, past cdk-nag. CDK's built-in template validation is off (CDK_VALIDATION=false):
    // it only warns, it fails no synth, and starting it costs more CPU than the synth itself;
    // test/bin/cdk-synth.test.ts runs it.
    const out = path.join(copy, 'synth-out');
    const cdk = path.join(copy, 'node_modules', '.bin', 'cdk');
    const synth = run(cdk, ['synth', '--quiet', '--no-notices', '-c', 'release=r1', '--output', out], 300_000, { CDK_VALIDATION: 'false' });
    expect(synth.status, synth.stderr).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('.template.json')).sort()).toEqual(
      ['greenlight-demo-production.template.json', 'greenlight-demo-qa.template.json', 'greenlight-demo-staging.template.json'],
    );
    expect(JSON.parse(read('manifest.json', out)).artifacts['greenlight-demo-qa'].environment).toBe('aws://333333333333/eu-west-2');

    // The tests that read the set of environments, from the copy's cdk.json and pipelines. Left out:
    // the stack tests, as the synth above shows qa's stack builds, and the pipeline scripts' tests,
    // as add-env changes no script (see the transforms above). One worker, with modules shared
    // between the files.
    const files = ['test/pipelines/circleci.test.ts', 'test/pipelines/github-actions.test.ts', 'test/pipelines/iam.test.ts', 'test/config/load.test.ts'];
    const config = path.join(copy, 'add-env.vitest.config.mjs');
    writeFileSync(config, 'export default { test: { testTimeout: 60_000, hookTimeout: 600_000, maxWorkers: 1, fileParallelism: false, isolate: false } };\n');
    const vitest = ['run', '--config', config, '--reporter', 'verbose', ...files];
    const tests = run(path.join(copy, 'node_modules', '.bin', 'vitest'), vitest, 900_000);
    const summary = tests.stdout.split('\n').filter((l) => /Test Files|Tests |FAIL|×/.test(l)).join('\n');
    expect(tests.status, summary || tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(new RegExp(`Test Files\\s+${files.length} passed \\(${files.length}\\)`));
    expect(tests.stdout).not.toMatch(/failed/);
    // They read qa: the IAM test checks its deploy role.
    expect(tests.stdout).toMatch(/✓ test\/pipelines\/iam\.test\.ts > deploy role for qa > /);
  }, 1_000_000);
});
