#!/usr/bin/env -S npx tsx
// greenlight CLI: parses arguments and hands off to lib/. No logic lives here.
import { Command, CommanderError } from 'commander';
import { UserError, USER_ERROR_EXIT_CODE } from '../lib/errors';
import { statusCommand, type StatusCommandOptions } from '../lib/cli/status';
import { watchCommand, type WatchCommandOptions } from '../lib/cli/watch';
import { publishAmi, resolveApp } from '../lib/ami/publish';
import { deployCommand, type DeployCommandOptions } from '../lib/cli/deploy';
import { releaseAmiCommand, type ReleaseAmiCommandOptions } from '../lib/cli/release-ami';
import { rollbackCommand, type RollbackCommandOptions } from '../lib/cli/rollback';
import { rehearseCommand, type RehearseCommandOptions } from '../lib/rehearsal/command';

const program = new Command()
  .name('greenlight')
  .description('Blue/green releases of EC2 web applications')
  .showHelpAfterError()
  .exitOverride();

program
  .command('publish-ami')
  .description("record a baked AMI under its release: SSM /greenlight/<app>/releases/<release>/ami-id")
  .option('--manifest <file>', "Packer's manifest (packer/manifest.json), after a bake")
  .option('--ami <id>', "or: an AMI shared from the bake account, to record in this account and AWS_REGION")
  .requiredOption('--release <id>', 'the release id the AMI was baked for')
  .option('--app <name>', "the app's name (default: context.app in cdk.json)")
  .action(async (opts: { manifest?: string; ami?: string; release: string; app?: string }) => {
    const result = await publishAmi({
      manifest: opts.manifest,
      ami: opts.ami,
      release: opts.release,
      app: resolveApp(opts.app, 'cdk.json'),
      region: process.env.AWS_REGION || undefined,
    });
    const verb = result.action === 'created' ? 'recorded' : 'already recorded';
    console.log(`${verb}: ${result.parameterName} = ${result.amiId} (${result.region})`);
  });

program
  .command('rehearse')
  .description('play a whole blue/green release on this machine under load: HAProxy, nginx, gunicorn, Django')
  .option('--env <name>', 'environment in cdk.json whose health-check and gate settings to use', 'staging')
  .option('--scenario <name>', 'healthy, redirect-301, bad-host, missing-config, db-down, flapping, errors-after-cutover or scale-out-mid-gate', 'healthy')
  .option('--time-scale <factor>', 'multiply every health-check and gate duration (1 = as configured)', '1')
  .option('--instances <n>', "instances per release (default: the environment's desired capacity)")
  .option('--workers <n>', 'gunicorn workers per instance (WEB_CONCURRENCY)', '2')
  .option('--rate <n>', 'load: requests per second', '100')
  .option('--concurrency <n>', 'load: concurrent keep-alive clients', '8')
  .option('--port <n>', 'port every instance listens on (default: 80 when free, else a free port)')
  .option('--work-dir <dir>', "this run's files and logs (default: .rehearsal/<time>-<pid>)")
  .option('--json', 'print the report as JSON')
  .action(async (opts: RehearseCommandOptions) => {
    process.exitCode = await rehearseCommand(opts);
  });

program
  .command('status')
  .description("show the live release, the environment's fleets with their capacity, and each instance's target health")
  .option('--env <name>', 'environment in cdk.json')
  .action(async (opts: StatusCommandOptions) => {
    console.log(await statusCommand(opts));
  });

program
  .command('watch')
  .description("follow a release's health gate from SSM until it passes (exit 0) or fails (exit 1)")
  .option('--env <name>', 'environment in cdk.json')
  .option('--release <id>', 'the release being deployed')
  .option('--interval <seconds>', 'seconds between reads of the gate progress', '5')
  .option('--timeout <seconds>', "give up after this long (default: the gate's timeout + 30 minutes)")
  .action(async (opts: WatchCommandOptions) => {
    process.exitCode = await watchCommand(opts);
  });

program
  .command('deploy')
  .description("deploy one release to one environment with cdk deploy, following its health gate; exit 1 when it fails")
  .option('--env <name>', 'environment in cdk.json')
  .option('--release <id>', 'the release to deploy')
  .option('--app-dir <dir>', 'deploy this cloud assembly from an earlier `cdk synth` (e.g. cdk.out) instead of synthesizing')
  .option('--ami <id>', 'deploy this AMI instead of the one published for the release')
  .option('--interval <seconds>', 'seconds between reads of the gate progress', '5')
  .action(async (opts: DeployCommandOptions) => {
    process.exitCode = await deployCommand(opts);
  });

program
  .command('rollback')
  .description('deploy the release that was live before the current one, through the health gate')
  .option('--env <name>', 'environment in cdk.json')
  .option('--print', 'print the cdk deploy command instead of running it')
  .option('--interval <seconds>', 'seconds between reads of the gate progress', '5')
  .action(async (opts: RollbackCommandOptions) => {
    process.exitCode = await rollbackCommand(opts);
  });

program
  .command('release-ami')
  .description('print the AMI recorded for a release, or nothing when it has not been baked')
  .option('--release <id>', 'the release id')
  .option('--app <name>', "the app's name (default: context.app in cdk.json)")
  .option('--find-baked', "when none is recorded, record this account's AMI an earlier bake of the release left (its name and tags)")
  .action(async (opts: ReleaseAmiCommandOptions) => {
    const ami = await releaseAmiCommand(opts, 'cdk.json', process.env.AWS_REGION || undefined);
    if (ami) console.log(ami);
  });

// <commands>

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : USER_ERROR_EXIT_CODE);
  }
  if (err instanceof UserError) {
    console.error(`greenlight: ${err.message}`);
    process.exit(USER_ERROR_EXIT_CODE);
  }
  console.error(err);
  process.exit(1);
});
