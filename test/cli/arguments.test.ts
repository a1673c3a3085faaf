// Every command's help and argument mistakes, through the CLI's entry function in this process: one
// line naming the option and the value, exit code 2, and nothing run. cli-process.test.ts runs the
// same entry as a real process for its exit codes.
import { describe, expect, it } from 'vitest';
import { cliInProcess, errorLines } from '../helpers/cli';

describe('greenlight arguments', () => {
  it.each([['deploy'], ['rollback'], ['release-ami'], ['status'], ['watch'], ['rehearse'], ['doctor'], ['publish-ami']])('%s --help exits 0', async (command) => {
    const run = await cliInProcess([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: greenlight ${command} [options]`);
    expect(run.stderr).toBe('');
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
    [['status'], 'greenlight: --env <name> is required: the environment in cdk.json, e.g. --env staging'],
    [['status', '--env', 'qa'], 'greenlight: --env "qa": unknown environment; defined in cdk.json: staging, production'],
    [['watch', '--env', 'staging'], 'greenlight: --release <id> is required: the release whose phases to follow'],
    [['watch', '--env', 'staging', '--release', 'x', '--interval', '-1'], 'greenlight: --interval "-1": expected a whole number from 1 to 300'],
    [['doctor'], 'greenlight: --app is required: the Django project directory to check'],
  ])('%j fails in one line with exit code 2 and runs nothing', async (args, message) => {
    const run = await cliInProcess(args);
    expect(run.code).toBe(2);
    expect(errorLines(run)).toEqual([message]);
    expect(run.stdout).toBe('');
  });

  it('an unknown option is named', async () => {
    const run = await cliInProcess(['deploy', '--environment', 'staging']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: unknown option '--environment'");
  });

  it('an unknown command is named', async () => {
    const run = await cliInProcess(['deplyo']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: unknown command 'deplyo'");
  });
});
