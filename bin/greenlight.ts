#!/usr/bin/env -S npx tsx
// greenlight CLI: parses arguments and hands off to lib/. No logic lives here.
import { Command, CommanderError } from 'commander';
import { UserError, USER_ERROR_EXIT_CODE } from '../lib/errors';
import { statusCommand, type StatusCommandOptions } from '../lib/cli/status';
import { watchCommand, type WatchCommandOptions } from '../lib/cli/watch';
import { publishAmi, resolveApp } from '../lib/ami/publish';

const program = new Command()
  .name('greenlight')
  .description('Blue/green releases of EC2 web applications')
  .showHelpAfterError()
  .exitOverride();

program
  .command('publish-ami')
  .description("record a baked AMI under its release: SSM /greenlight/<app>/releases/<release>/ami-id")
  .requiredOption('--manifest <file>', "Packer's manifest (packer/manifest.json)")
  .requiredOption('--release <id>', 'the release id the AMI was baked for')
  .option('--app <name>', "the app's name (default: context.app in cdk.json)")
  .action(async (opts: { manifest: string; release: string; app?: string }) => {
    const result = await publishAmi({
      manifest: opts.manifest,
      release: opts.release,
      app: resolveApp(opts.app, 'cdk.json'),
      region: process.env.AWS_REGION || undefined,
    });
    const verb = result.action === 'created' ? 'recorded' : 'already recorded';
    console.log(`${verb}: ${result.parameterName} = ${result.amiId} (${result.region})`);
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
