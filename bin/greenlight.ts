#!/usr/bin/env -S npx tsx
// greenlight CLI: parses arguments and hands off to lib/. No logic lives here.
import { Command, CommanderError } from 'commander';
import { UserError, USER_ERROR_EXIT_CODE } from '../lib/errors';
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
