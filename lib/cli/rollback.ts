// `greenlight rollback --env <env>`: deploys the release that served before the live one, through
// the same gate as any release, or with --print shows the command that would.
import { UserError } from '../errors';
import { getParameterValue } from '../ssm-parameter';
import { amiParameterName, liveReleaseParameterName } from '../ssm-paths';
import { cdkDeployCommandLine } from './cdk-deploy';
import { defaultRuntime, type DeployRuntime, type PreparedDeploy, runDeploy } from './deploy';
import { type CliEnvironment, explainAwsError, loadEnvironment } from './environment';
import { pollIntervalMs } from './options';
import { readLiveHistory } from './live-history';
import { choosePrevious } from './previous-release';

export interface RollbackCommandOptions {
  readonly env?: string;
  readonly print?: boolean;
  readonly interval?: string;
}

const when = (d?: Date): string => (d ? ` since ${d.toISOString()}` : '');

export interface PreparedRollback {
  readonly env: CliEnvironment;
  readonly intervalMs: number;
  readonly print: boolean;
}

/** Checks every option before anything calls AWS. */
export function prepareRollback(opts: RollbackCommandOptions, cdkJsonPath = 'cdk.json'): PreparedRollback {
  return { env: loadEnvironment(opts.env, cdkJsonPath), intervalMs: pollIntervalMs(opts.interval), print: opts.print ?? false };
}

/** Finds the previous release, checks its AMI is still recorded, then prints or deploys. */
export async function runRollback({ env, intervalMs, print }: PreparedRollback, rt: DeployRuntime): Promise<number> {
  const liveParameter = liveReleaseParameterName(env.app, env.envName);
  const ssm = rt.clients.ssm;

  const history = await readLiveHistory(ssm, liveParameter).catch((err) => explainAwsError(err, `reading ${liveParameter}`));
  const target = choosePrevious(liveParameter, history);
  const amiParameter = amiParameterName(env.app, target.previous);
  const ami = await getParameterValue(ssm, amiParameter).catch((err) => explainAwsError(err, `reading ${amiParameter}`));
  if (!ami) {
    throw new UserError(
      `cannot roll back ${env.envName} to ${target.previous}: its AMI parameter ${amiParameter} is missing ` +
        `(deleted, or published in another region). Publish the release's AMI again with \`greenlight publish-ami\`, ` +
        `or deploy a known AMI with \`npm run deploy -- --env ${env.envName} --release ${target.previous} --ami ami-…\``,
    );
  }

  const prepared: PreparedDeploy = {
    env,
    plan: { stackName: env.stackName, envName: env.envName, release: target.previous },
    intervalMs,
  };
  if (print) {
    rt.print(cdkDeployCommandLine(prepared.plan));
    return 0;
  }
  rt.print(
    `rolling ${env.envName} back from ${target.live}${when(target.liveSince)} to ${target.previous} ` +
      `(live${when(target.previousSince)}, AMI ${ami}); it goes through the health gate like any release`,
  );
  return runDeploy(prepared, rt);
}

export async function rollbackCommand(opts: RollbackCommandOptions, cdkJsonPath = 'cdk.json'): Promise<number> {
  const prepared = prepareRollback(opts, cdkJsonPath);
  return runRollback(prepared, defaultRuntime(prepared.env));
}
