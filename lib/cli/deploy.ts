// `greenlight deploy` (`npm run deploy -- --env <env> --release <id>`): runs `cdk deploy` for one
// environment's stack, prints the gate's, smoke checks' and bake's progress while it runs, and ends
// with the verdict, naming the phase that failed.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { type AwsClients, createEnvironmentClients, createEnvironmentEc2Client, createEnvironmentServiceQuotasClient } from '../aws/clients';
import { readParameter } from '../aws/ssm';
import {
  amiParameterName,
  bakeProgressParameterName,
  gateProgressParameterName,
  liveReleaseParameterName,
  smokeResultParameterName,
} from '../ssm-paths';
import { cdkDeployArgs, checkAssemblyRelease, type DeployPlan } from './cdk-deploy';
import { CLOCK_SKEW_MS, deployOutcome } from './deploy-outcome';
import { type CliEnvironment, explainAwsError, loadEnvironment } from './environment';
import { errorAnnotation, jobSummary } from './job-summary';
import { amiOption, pollIntervalMs, releaseOption, wholeOption } from '../options';
import { scheduleTime } from '../config/standby';
import type { ReleaseRecords } from './phases';
import { readReleaseRecords } from './release-records';
import { runPreflight } from './preflight';
import { checkSessionBound } from './session-bound';
import { chooseStandby } from './standby';
import { findStandby } from './find-standby';
import { watchRelease } from './watch';

export interface DeployCommandOptions {
  readonly env?: string;
  readonly release?: string;
  readonly appDir?: string;
  readonly ami?: string;
  readonly interval?: string;
  /** Append a Markdown summary of the outcome to this file (GitHub: $GITHUB_STEP_SUMMARY). */
  readonly summary?: string;
  /** Print a GitHub Actions error annotation when the deploy fails. */
  readonly annotate?: boolean;
  /** Seconds the credentials last (a CI job's session): refuse settings whose deploy can run longer. */
  readonly maxSession?: string;
}

export interface PreparedDeploy {
  readonly env: CliEnvironment;
  readonly plan: DeployPlan;
  readonly intervalMs: number;
  readonly summaryFile?: string;
  readonly annotate?: boolean;
}

/** Checks every option before anything runs. */
export function prepareDeploy(opts: DeployCommandOptions, projectDir = '.'): PreparedDeploy {
  const env = loadEnvironment(opts.env, projectDir);
  const release = releaseOption(opts.release, 'the release to deploy, e.g. --release 2026.11.22-3f9c2ab');
  const ami = amiOption(opts.ami);
  const intervalMs = pollIntervalMs(opts.interval);
  const maxSession = wholeOption('--max-session', opts.maxSession, 900, 43_200);
  if (maxSession !== undefined) checkSessionBound(env.envName, env.settings, maxSession);
  if (opts.appDir !== undefined) {
    if (ami) throw new UserError('--ami cannot be combined with --app-dir: the AMI was fixed when the assembly was synthesized');
    checkAssembly(opts.appDir, env, release);
  }
  return {
    env,
    plan: { stackName: env.stackName, envName: env.envName, release, appDir: opts.appDir, ami },
    intervalMs,
    summaryFile: opts.summary || undefined,
    annotate: opts.annotate ?? false,
  };
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Checks that `appDir` is a cloud assembly of this environment's stack for this release. */
export function checkAssembly(appDir: string, env: CliEnvironment, release: string): void {
  const manifestPath = path.join(appDir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new UserError(`--app-dir ${appDir}: no cloud assembly there (no manifest.json); run \`npx cdk synth -c release=${release}\` first`);
  }
  const manifest = readJson(manifestPath) as {
    artifacts?: Record<string, { type?: string; properties?: { templateFile?: string } }>;
  };
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  const artifact = stacks.find(([id]) => id === env.stackName)?.[1];
  if (!artifact?.properties?.templateFile) {
    throw new UserError(
      `--app-dir ${appDir}: no stack ${env.stackName} in the assembly; it has ${stacks.map(([id]) => id).join(', ') || 'no stacks'}`,
    );
  }
  const template = readJson(path.join(appDir, artifact.properties.templateFile)) as Parameters<typeof checkAssemblyRelease>[0];
  checkAssemblyRelease(template, liveReleaseParameterName(env.app, env.envName), release, appDir);
}

export interface DeployRuntime {
  readonly clients: AwsClients;
  /** Runs cdk with these arguments and resolves to its exit code. */
  readonly runCdk: (args: readonly string[]) => Promise<number>;
  readonly print: (line: string) => void;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Appends to a file: the job summary. */
  readonly appendFile?: (file: string, text: string) => void;
  /** Reads what the deploy would trip over and returns one line per problem (`runPreflight`). */
  readonly preflight?: (plan: DeployPlan) => Promise<readonly string[]>;
}

/**
 * In an environment with a standby, the plan keeps the live release warm (or, when the live release
 * is deployed again, the current standby). A pre-synthesized assembly already decided.
 */
export async function withStandby(prepared: PreparedDeploy, rt: DeployRuntime): Promise<DeployPlan> {
  const { env, plan } = prepared;
  if (!env.settings.standby?.enabled || plan.appDir !== undefined || plan.standby !== undefined) return plan;
  const liveParameter = liveReleaseParameterName(env.app, env.envName);
  const live = await readParameter(rt.clients, liveParameter).catch((err) => explainAwsError(err, `reading ${liveParameter}`));
  const standingBy =
    live === plan.release
      ? (await findStandby(rt.clients, env.stackName, live).catch((err) => explainAwsError(err, `reading the groups of ${env.stackName}`)))?.release
      : undefined;
  const standby = chooseStandby(plan.release, live, standingBy);
  if (standby === undefined) return plan;
  const deployTime = scheduleTime(new Date(rt.now()));
  const until = scheduleTime(new Date(rt.now() + env.settings.standby.window * 1000));
  rt.print(`keeping ${standby} running as the standby until ${until}, for \`greenlight rollback --env ${env.envName}\``);
  return { ...plan, standby: { release: standby, deployTime } };
}

/** Deploys, following the gate, smoke checks and bake while cdk runs; resolves to the exit code. */
export async function runDeploy(prepared: PreparedDeploy, rt: DeployRuntime): Promise<number> {
  const env = prepared.env;
  const plan = await withStandby(prepared, rt);
  if (rt.preflight) {
    const problems = await rt.preflight(plan).catch((err) => explainAwsError(err, `preflight of ${env.stackName}`));
    if (problems.length > 0) {
      problems.forEach((line) => rt.print(`preflight: ${line}`));
      rt.print(`deploy refused before cdk deploy touched ${plan.stackName}: ${problems.length} problem${problems.length === 1 ? '' : 's'} above`);
      return 1;
    }
  }
  const gateParameter = gateProgressParameterName(env.app, env.envName, plan.release);
  const startedAt = rt.now();
  const args = cdkDeployArgs(plan);
  rt.print(`deploying release ${plan.release} to ${env.envName} (${plan.stackName}): cdk ${args.join(' ')}`);

  let cdkExited = false;
  const following = watchRelease(rt.clients, {
    gateParameter,
    smokeParameter: env.settings.smoke ? smokeResultParameterName(env.app, env.envName, plan.release) : undefined,
    bakeParameter: env.settings.bake ? bakeProgressParameterName(env.app, env.envName, plan.release) : undefined,
    intervalMs: prepared.intervalMs,
    deadlineMs: 24 * 3600_000,
    staleMs: CLOCK_SKEW_MS,
    now: rt.now,
    sleep: rt.sleep,
    print: (phase, line) => rt.print(`${phase}: ${line}`),
    stopped: () => cdkExited,
  }).catch((err: unknown) => {
    // Following is a courtesy; cdk's own exit code decides the deploy.
    rt.print(`gate: cannot follow the gate's progress (${(err as Error).message.split('\n')[0]}); cdk carries on`);
  });

  const cdkExitCode = await rt.runCdk(args).finally(() => {
    cdkExited = true;
  });
  await following;

  // A record that cannot be read is left out: cdk's exit code and the others still decide.
  const records: ReleaseRecords = await readReleaseRecords(rt.clients, env.app, env.envName, plan.release, (c, name) =>
    readParameter(c, name).catch(() => undefined),
  );
  const outcome = deployOutcome({
    release: plan.release,
    envName: env.envName,
    stackName: plan.stackName,
    cdkExitCode,
    record: records.gate,
    smoke: records.smoke,
    traffic: records.traffic,
    bake: records.bake,
    startedAt,
    amiParameterName: plan.ami ? undefined : amiParameterName(env.app, plan.release),
  });
  outcome.lines.forEach((line) => rt.print(line));
  const report = { release: plan.release, envName: env.envName, stackName: plan.stackName, outcome, record: records.gate, startedAt, finishedAt: rt.now() };
  if (prepared.summaryFile) (rt.appendFile ?? appendFileSync)(prepared.summaryFile, jobSummary(report));
  const annotation = prepared.annotate ? errorAnnotation(report) : undefined;
  if (annotation) rt.print(annotation);
  return outcome.exitCode;
}

/** The project's own cdk CLI, with stdout and stderr passed through. */
export function spawnCdk(args: readonly string[]): Promise<number> {
  const local = path.join(process.cwd(), 'node_modules', '.bin', 'cdk');
  const [command, commandArgs] = existsSync(local) ? [local, [...args]] : ['npx', ['cdk', ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (err) => reject(new UserError(`cannot run ${command}: ${err.message}; run \`npm ci\` first`)));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Real clients in the environment's region (AWS_REGION wins), the real cdk, and the console. */
export function defaultRuntime(env: CliEnvironment): DeployRuntime {
  const clients = createEnvironmentClients(env.settings.region);
  const ec2 = createEnvironmentEc2Client(env.settings.region);
  return {
    clients,
    preflight: (plan) => runPreflight(clients, ec2, createEnvironmentServiceQuotasClient(env.settings.region), env, plan),
    runCdk: spawnCdk,
    print: (line) => console.log(line),
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
}

export async function deployCommand(opts: DeployCommandOptions, projectDir = '.'): Promise<number> {
  const prepared = prepareDeploy(opts, projectDir);
  const rt = defaultRuntime(prepared.env);
  // Loaded on use: it bakes release images, which a rollback's deploy never needs.
  const { migrationGate } = await import('./deploy-migrations');
  const refused = await migrationGate(prepared, rt, projectDir);
  return refused ?? runDeploy(prepared, rt);
}
