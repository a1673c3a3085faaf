#!/usr/bin/env -S npx tsx
// greenlight CLI: parses arguments and hands off to lib/. No logic lives here.
import { format } from 'node:util';
import { Command, CommanderError } from 'commander';
import { UserError, USER_ERROR_EXIT_CODE } from '../lib/errors';
import type { StatusCommandOptions } from '../lib/cli/status';
import type { WatchCommandOptions } from '../lib/cli/watch';
import type { DeployCommandOptions } from '../lib/cli/deploy';
import type { ReleaseAmiCommandOptions } from '../lib/cli/release-ami';
import type { RollbackCommandOptions } from '../lib/cli/rollback';
import type { RecoverCommandOptions } from '../lib/cli/recover';
import type { RehearseCommandOptions } from '../lib/rehearsal/options';
import { SCENARIO_NAMES } from '../lib/rehearsal/scenarios';
import type { DoctorCommandOptions } from '../lib/doctor/command';
import type { CheckMigrationsCommandOptions } from '../lib/cli/check-migrations';

// Each command loads its own code when it runs: loading every command (the SDK clients, the
// rehearsal, the CDK app) would cost each run about a second before it starts.

/** Where the CLI writes; tests hand in their own to run it in-process. */
export interface CliOutput {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const STDIO: CliOutput = { out: (text) => void process.stdout.write(text), err: (text) => void process.stderr.write(text) };

/** Runs one command line (`argv` as process.argv has it) and resolves with the exit code. */
export async function main(argv: readonly string[], io: CliOutput = STDIO): Promise<number> {
  const program = new Command()
    .name('greenlight')
    .description('Blue/green releases of EC2 web applications')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  let exitCode = 0;

  program
    .command('publish-ami')
    .description("record a baked AMI under its release: SSM /greenlight/<app>/releases/<release>/ami-id")
    .option('--manifest <file>', "Packer's manifest (packer/manifest.json), after a bake")
    .option('--ami <id>', "or: an AMI shared from the bake account, to record in this account and AWS_REGION")
    .requiredOption('--release <id>', 'the release id the AMI was baked for')
    .option('--app <name>', "the app's name (default: context.app in cdk.json)")
    .action(async (opts: { manifest?: string; ami?: string; release: string; app?: string }) => {
      const { publishAmi, resolveApp } = await import('../lib/ami/publish');
      const result = await publishAmi({
        manifest: opts.manifest,
        ami: opts.ami,
        release: opts.release,
        app: resolveApp(opts.app),
        region: process.env.AWS_REGION || undefined,
      });
      const verb = result.action === 'created' ? 'recorded' : 'already recorded';
      io.out(`${verb}: ${result.parameterName} = ${result.amiId} (${result.region})\n`);
    });

  program
    .command('rehearse')
    .description('play a whole blue/green release on this machine under load: HAProxy, nginx, gunicorn, Django')
    .option('--env <name>', 'environment in cdk.json whose health-check and gate settings to use', 'staging')
    .option('--scenario <name>', SCENARIO_NAMES.join(', '), 'healthy')
    .option('--time-scale <factor>', 'multiply every health-check and gate duration (1 = as configured)', '1')
    .option('--instances <n>', "instances per release (default: the environment's desired capacity)")
    .option('--workers <n>', 'gunicorn workers per instance (WEB_CONCURRENCY)', '2')
    .option('--rate <n>', 'load: requests per second', '100')
    .option('--concurrency <n>', 'load: concurrent keep-alive clients', '8')
    .option('--load-paths <paths>', "load: paths requested in turn, separated by commas (default: / and the environment's smoke paths)")
    .option('--port <n>', 'port every instance listens on (default: 80 when free, else a free port)')
    .option('--work-dir <dir>', "this run's files and logs (default: .rehearsal/<time>-<pid>)")
    .option('--app <dir>', "the Django project to release, with [tool.greenlight] in its pyproject.toml (default: examples/django-app)")
    .option('--app-green <dir>', 'the Django project of the new (green) release, for a change from --app to it (default: --app)')
    .option('--env-file <file>', "the app's configuration (NAME=VALUE lines), as SSM holds it for the environment")
    .option('--ignore-migration-check', "launch green even when its migrations break blue, to see what the check prevents")
    .option('--json', 'print the report as JSON')
    .action(async (opts: RehearseCommandOptions) => {
      const { rehearseCommand } = await import('../lib/rehearsal/command');
      exitCode = await rehearseCommand(opts);
    });

  program
    .command('doctor')
    .description("boot a Django app once on loopback behind the AMI's nginx site and check the health contract as a load balancer would")
    .option('--app <dir>', 'the Django project, with [tool.greenlight] in its pyproject.toml')
    .option('--live-app <dir>', "the live release's project: also check that the app's migrations do not break it (check-migrations)")
    .option('--env <name>', 'environment in cdk.json whose health check to hold the app to', 'staging')
    .option('--env-file <file>', "the app's configuration (NAME=VALUE lines), as SSM holds it for the environment")
    .option('--json', 'print the checks as JSON')
    .action(async (opts: DoctorCommandOptions) => {
      const { doctorCommand } = await import('../lib/doctor/command');
      exitCode = await doctorCommand(opts);
    });

  program
    .command('check-migrations')
    .description("refuse a new release whose migrations break the live release while it still serves: Django's own loader, in each release image")
    .option('--app <dir>', 'the Django project of the live release')
    .option('--app-green <dir>', 'the Django project of the new release')
    .option('--env-file <file>', "the app's configuration (NAME=VALUE lines), for settings that read it")
    .option('--json', 'print the findings as JSON')
    .action(async (opts: CheckMigrationsCommandOptions) => {
      const { checkMigrationsCommand } = await import('../lib/cli/check-migrations');
      exitCode = await checkMigrationsCommand(opts, io.out);
    });

  program
    .command('status')
    .description("show the live release, the environment's fleets with their capacity, and each instance's target health")
    .option('--env <name>', 'environment in cdk.json')
    .option('--preview-key', "also print each release's preview key, for credentials that may read it (never in a CI log)")
    .action(async (opts: StatusCommandOptions) => {
      const { statusCommand } = await import('../lib/cli/status');
      io.out(`${await statusCommand(opts)}\n`);
    });

  program
    .command('watch')
    .description("follow a release's health gate from SSM until it passes (exit 0) or fails (exit 1)")
    .option('--env <name>', 'environment in cdk.json')
    .option('--release <id>', 'the release being deployed')
    .option('--interval <seconds>', 'seconds between reads of the gate progress', '5')
    .option('--timeout <seconds>', "give up after this long (default: the gate's timeout + 30 minutes)")
    .action(async (opts: WatchCommandOptions) => {
      const { watchCommand } = await import('../lib/cli/watch');
      exitCode = await watchCommand(opts);
    });

  program
    .command('deploy')
    .description("deploy one release to one environment with cdk deploy, following its health gate; exit 1 when it fails")
    .option('--env <name>', 'environment in cdk.json')
    .option('--release <id>', 'the release to deploy')
    .option('--app-dir <dir>', 'deploy this cloud assembly from an earlier `cdk synth` (e.g. cdk.out) instead of synthesizing')
    .option('--ami <id>', 'deploy this AMI instead of the one published for the release')
    .option('--interval <seconds>', 'seconds between reads of the gate progress', '5')
    .option('--summary <file>', 'append a Markdown summary (verdict, diagnosis, phase timings) to this file, e.g. $GITHUB_STEP_SUMMARY')
    .option('--annotate', 'print a GitHub Actions error annotation when the deploy fails')
    .option('--max-session <seconds>', "the credentials' lifetime (a CI job's session): refuse settings whose deploy can run longer")
    .action(async (opts: DeployCommandOptions) => {
      const { deployCommand } = await import('../lib/cli/deploy');
      exitCode = await deployCommand(opts);
    });

  program
    .command('rollback')
    .description('deploy the release that was live before the current one (or --release), through the health gate')
    .option('--env <name>', 'environment in cdk.json')
    .option('--release <id>', 'roll back to this release, which must have served in the environment before')
    .option('--app-dir <dir>', "the cloud assembly recorded for --release (its release job's cdk.out), instead of synthesizing it from this checkout")
    .option('--print', 'print the cdk deploy command instead of running it')
    .option('--accept-schema-risk', "roll back even though the live release's migrations break the release it returns to")
    .option('--interval <seconds>', 'seconds between reads of the gate progress', '5')
    .action(async (opts: RollbackCommandOptions) => {
      const { rollbackCommand } = await import('../lib/cli/rollback');
      exitCode = await rollbackCommand(opts);
    });

  program
    .command('recover')
    .description('continue a rollback stuck in UPDATE_ROLLBACK_FAILED: name what failed, put the serving listener back on the live release, skip what is safe')
    .option('--env <name>', 'environment in cdk.json')
    .option('--dry-run', 'print the failed resources and what recover would do, and change nothing')
    .action(async (opts: RecoverCommandOptions) => {
      const { recoverCommand } = await import('../lib/cli/recover');
      io.out(`${await recoverCommand(opts)}\n`);
    });

  program
    .command('release-ami')
    .description('print the AMI recorded for a release, or nothing when it has not been baked')
    .option('--release <id>', 'the release id')
    .option('--app <name>', "the app's name (default: context.app in cdk.json)")
    .option('--find-baked', "when none is recorded, record this account's AMI an earlier bake of the release left (its name and tags)")
    .action(async (opts: ReleaseAmiCommandOptions) => {
      const { releaseAmiCommand } = await import('../lib/cli/release-ami');
      const ami = await releaseAmiCommand(opts, '.', process.env.AWS_REGION || undefined);
      if (ami) io.out(`${ami}\n`);
    });

  program
    .command('add-env')
    .description('add an environment to cdk.json (with offline availability zones) and to both release pipelines')
    .argument('<name>', 'the new environment, e.g. qa')
    .requiredOption('--account <id>', "the environment's AWS account id")
    .requiredOption('--region <region>', "the environment's AWS region, e.g. eu-west-1")
    .action(async (name: string, opts: { account: string; region: string }) => {
      const { addEnvironment, checkNewEnvironment } = await import('../lib/cli/add-env');
      const changed = addEnvironment(process.cwd(), checkNewEnvironment(name, opts.account, opts.region));
      io.out(`added ${name}: ${changed.join(', ')}; now create its deploy role and CI settings (README, "Release pipelines")\n`);
    });

  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : USER_ERROR_EXIT_CODE;
    if (err instanceof UserError) {
      io.err(`greenlight: ${err.message}\n`);
      return USER_ERROR_EXIT_CODE;
    }
    io.err(`${format(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // greenlight supports Node 20 and later (package.json's engines). On Node 20, past its end of life,
  // the AWS SDK would print nine lines about it before each command's own output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void main(process.argv).then((code) => {
    // A failure exits at once, whatever sockets or timers are still open; success lets them finish.
    if (code === 0) process.exitCode = 0;
    else process.exit(code);
  });
}
