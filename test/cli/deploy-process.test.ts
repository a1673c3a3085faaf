// deploy, rollback and release-ami as a user runs them: help and argument errors offline, and a
// deploy through the real cdk CLI with no AWS credentials, which must fail before any gate and say so.
import { describe, expect, it } from 'vitest';
import { cli, errorLines } from '../helpers/cli';
import { cdkContext } from '../helpers/settings';

const APP = cdkContext().app;

describe('greenlight deploy, rollback and release-ami, as processes', () => {
  it.each([['deploy'], ['rollback'], ['release-ami']])('%s --help works offline', async (command) => {
    const run = await cli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: greenlight ${command} [options]`);
  });

  it.each([
    [['deploy', '--release', 'r1'], 'greenlight: --env <name> is required: the environment in cdk.json, e.g. --env staging'],
    [['deploy', '--env', 'staging'], 'greenlight: --release <id> is required: the release to deploy, e.g. --release 2026.11.22-3f9c2ab'],
    [['deploy', '--env', 'prod', '--release', 'r1'], 'greenlight: --env "prod": unknown environment; defined in cdk.json: staging, production'],
    [
      ['deploy', '--env', 'staging', '--release', 'r1/../x'],
      'greenlight: --release "r1/../x": not a valid release id; expected 1–63 letters, digits, dots or hyphens, starting with a letter or digit',
    ],
    [['deploy', '--env', 'staging', '--release', 'r1', '--ami', 'latest'], 'greenlight: --ami "latest": not an AMI id; expected "ami-" and 8 or 17 hex digits'],
    [
      ['deploy', '--env', 'staging', '--release', 'r1', '--app-dir', 'no-such-dir'],
      'greenlight: --app-dir no-such-dir: no cloud assembly there (no manifest.json); run `npx cdk synth -c release=r1` first',
    ],
    [['rollback'], 'greenlight: --env <name> is required: the environment in cdk.json, e.g. --env staging'],
    [['release-ami'], 'greenlight: --release <id> is required: the release whose AMI to look up'],
  ])('%j fails in one line with exit code 2 and runs nothing', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(errorLines(run)).toEqual([message]);
    expect(run.stdout).toBe('');
  });

  it('an unknown option is named', async () => {
    const run = await cli(['deploy', '--environment', 'staging']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: unknown option '--environment'");
  });

  describe('through the real cdk, with no credentials', () => {
    it('fails before the gate, passes cdk’s reason through, and exits 1', async () => {
      const run = await cli(
        ['deploy', '--env', 'staging', '--release', 'r1', '--interval', '1'],
        {},
        180_000,
      );
      expect(run.code).toBe(1);
      const stdout = run.stdout.split('\n');
      expect(stdout[0]).toBe(
        `deploying release r1 to staging (${APP}-staging): cdk deploy ${APP}-staging -c env=staging -c release=r1 --require-approval never --progress events`,
      );
      // cdk synthesized, then stopped at the first AWS call.
      expect(run.stderr).toMatch(/no credentials have been configured|Unable to resolve AWS account/);
      expect(stdout.filter(Boolean).at(-1)).toBe(
        `FAILED: r1 in staging (${APP}-staging); cdk deploy exited 1 before the health gate started; cdk's output above says why. ` +
          `Common causes: no AWS credentials, an account not bootstrapped with \`cdk bootstrap\`, or no AMI published for the release (/greenlight/${APP}/releases/r1/ami-id).`,
      );
      expect(`${run.stdout}${run.stderr}`).not.toMatch(/^\s+at /m);
    }, 200_000);
  });
});
