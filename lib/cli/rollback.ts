// `greenlight rollback --env <env>`: deploys the release that served before the live one, through
// the same gate as any release, or with --print shows the command that would.
import { UserError } from '../errors';
import { getParameterValue } from '../ssm-parameter';
import { amiParameterName, liveReleaseParameterName } from '../ssm-paths';
import { cdkDeployCommandLine } from './cdk-deploy';
import { defaultRuntime, type DeployRuntime, type PreparedDeploy, runDeploy } from './deploy';
import { explainAwsError, loadEnvironment, wholeOption } from './environment';
import { readLiveHistory } from './live-history';
import { choosePrevious } from './previous-release';

export interface RollbackCommandOptions {
  readonly env?: string;
  readonly print?: boolean;
  readonly interval?: string;
}

const when = (d?: Date): string => (d ? ` since ${d.toISOString()}` : '');

/** Finds the previous release, checks its AMI is still recorded, then prints or deploys. */
export async function runRollback(
  opts: RollbackCommandOptions,
  rt: DeployRuntime,
  cdkJsonPath = 'cdk.json',
): Promise<number> {
  const env = loadEnvironment(opts.env, cdkJsonPath);
  const intervalMs = (wholeOption('--interval', opts.interval, 1, 300) ?? 5) * 1000;
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
  if (opts.print) {
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
  return runRollback(opts, defaultRuntime(loadEnvironment(opts.env, cdkJsonPath)), cdkJsonPath);
}
