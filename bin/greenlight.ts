#!/usr/bin/env -S npx tsx
// greenlight CLI: parses arguments and hands off to lib/. No logic lives here.
import { Command, CommanderError } from 'commander';
import { UserError, USER_ERROR_EXIT_CODE } from '../lib/errors';

const program = new Command()
  .name('greenlight')
  .description('Blue/green releases of EC2 web applications')
  .showHelpAfterError()
  .exitOverride();

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
