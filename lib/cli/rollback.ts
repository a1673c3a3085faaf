// `greenlight rollback --env <env> [--release <id> [--app-dir <assembly>]]`: returns to the release
// that served before the live one, or the one named. With that release standing by, a gate on its
// running fleet and a listener switch; with the standby at zero, it scales it up first; otherwise a
// deploy of a new fleet, from the assembly recorded for it when there is one. --print shows the command.
import { deleteScheduledAction, liveDesiredCapacity, resizeGroup } from '../aws/auto-scaling';
import { getParameterValue, readParameterHistory } from '../aws/ssm';
import { UserError } from '../errors';
import { pollIntervalMs, releaseOption } from '../options';
import { amiParameterName, liveReleaseParameterName, schemaRecordParameterName } from '../ssm-paths';
import { parseSchemaRecord, rollbackRefusal } from '../migrations/rollback-safety';
import { cdkDeployCommandLine } from './cdk-deploy';
import { checkAssembly, defaultRuntime, type DeployRuntime, type PreparedDeploy, runDeploy } from './deploy';
import { type CliEnvironment, explainAwsError, loadEnvironment } from './environment';
import { chooseNamed, choosePrevious } from './previous-release';
import { scheduleTime } from '../config/standby';
import { chooseRollbackWay, rollbackIdAt } from './standby';
import { findStandby } from './find-standby';

export interface RollbackCommandOptions {
  readonly env?: string;
  /** Roll back to this release rather than the one that served before the live one. */
  readonly release?: string;
  /** The cloud assembly synthesized for that release (the release job's cdk.out). */
  readonly appDir?: string;
  readonly print?: boolean;
  readonly interval?: string;
  /** Roll back even though the live release's migrations broke the one it returns to. */
  readonly acceptSchemaRisk?: boolean;
}

const when = (d?: Date): string => (d ? ` since ${d.toISOString()}` : '');

export interface PreparedRollback {
  readonly env: CliEnvironment;
  readonly intervalMs: number;
  readonly print: boolean;
  readonly release?: string;
  readonly appDir?: string;
  readonly acceptSchemaRisk?: boolean;
}

/** Checks every option before anything calls AWS. */
export function prepareRollback(opts: RollbackCommandOptions, projectDir = '.'): PreparedRollback {
  const env = loadEnvironment(opts.env, projectDir);
  const release = opts.release === undefined ? undefined : releaseOption(opts.release, 'the release to roll back to');
  if (opts.appDir !== undefined) {
    if (!release) throw new UserError('--app-dir needs --release: the release the assembly was synthesized for');
    checkAssembly(opts.appDir, env, release);
  }
  return { env, intervalMs: pollIntervalMs(opts.interval), print: opts.print ?? false, release, appDir: opts.appDir, acceptSchemaRisk: opts.acceptSchemaRisk ?? false };
}

/** Finds the previous release, checks its AMI is still recorded, then prints or deploys. */
export async function runRollback({ env, intervalMs, print, release, appDir, acceptSchemaRisk }: PreparedRollback, rt: DeployRuntime): Promise<number> {
  const liveParameter = liveReleaseParameterName(env.app, env.envName);
  const ssm = rt.clients.ssm;

  const versions = await readParameterHistory(ssm, liveParameter).catch((err) => explainAwsError(err, `reading ${liveParameter}`));
  const history = versions.map((v) => ({ version: v.version, release: v.value, changedAt: v.changedAt }));
  const target = release ? chooseNamed(liveParameter, history, release) : choosePrevious(liveParameter, history);
  // The deploy's migration check recorded whether the live release's migrations broke the one before it.
  const recordParameter = schemaRecordParameterName(env.app, env.envName);
  const record = parseSchemaRecord(await getParameterValue(ssm, recordParameter).catch((err) => explainAwsError(err, `reading ${recordParameter}`)));
  const refusal = rollbackRefusal(record, target.live, target.previous, acceptSchemaRisk ?? false);
  if (refusal) throw new UserError(`cannot roll back ${env.envName}: ${refusal}`);
  if (record?.release === target.live && !record.rollbackSafe) rt.print(`rolling back despite the schema risk (--accept-schema-risk): ${record.reason ?? ''}`);
  const amiParameter = amiParameterName(env.app, target.previous);
  const ami = await getParameterValue(ssm, amiParameter).catch((err) => explainAwsError(err, `reading ${amiParameter}`));
  if (!ami) {
    throw new UserError(
      `cannot roll back ${env.envName} to ${target.previous}: its AMI parameter ${amiParameter} is missing ` +
        `(deleted, or published in another region). Publish the release's AMI again with \`greenlight publish-ami\`, ` +
        `or deploy a known AMI with \`npm run deploy -- --env ${env.envName} --release ${target.previous} --ami ami-…\``,
    );
  }

  const standby = await findStandby(rt.clients, env.stackName, target.live).catch((err) =>
    explainAwsError(err, `reading the groups of ${env.stackName}`),
  );
  const liveDesired = await liveDesiredCapacity(rt.clients, env.stackName, target.live).catch((err) =>
    explainAwsError(err, `reading the groups of ${env.stackName}`),
  );
  const now = new Date(rt.now());
  // A recorded assembly fixed its template when it was synthesized, without this standby in it: when
  // the release is the one standing by, the switch to it wins over redeploying that assembly.
  const switchable = standby?.release === target.previous;
  const assembly = switchable ? undefined : appDir;
  const way = chooseRollbackWay(env.settings, target.previous, assembly ? undefined : standby, liveDesired, now);
  const warm = way.kind !== 'redeploy' && standby !== undefined;
  const keep = env.settings.standby?.enabled ? { release: target.live, deployTime: scheduleTime(now) } : undefined;

  const prepared: PreparedDeploy = {
    env,
    plan: {
      stackName: env.stackName,
      envName: env.envName,
      release: target.previous,
      appDir: assembly,
      // A recorded assembly already fixed the template: no standby context to add.
      standby: assembly ? undefined : keep,
      rollbackId: warm ? rollbackIdAt(now) : undefined,
    },
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
  rt.print(
    assembly
      ? `deploying the assembly synthesized for ${target.previous}: ${assembly}`
      : appDir
        ? `${target.previous} stands by: switching to it from this checkout's template rather than redeploying ${appDir}`
        : `synthesizing ${target.previous} from this checkout's code (no recorded assembly given with --app-dir)`,
  );
  rt.print(way.line);
  // The rollback's template drops the standby's scale-to-zero too, but CloudFormation deletes it only
  // in its cleanup, after the cutover: were the window to end in between, the fleet that just went
  // live would scale to zero.
  if (warm && standby.scaleToZeroAction) {
    await deleteScheduledAction(rt.clients, standby.groupName, standby.scaleToZeroAction).catch((err) =>
      explainAwsError(err, `taking the scale-to-zero off ${standby.groupName}`),
    );
  }
  if (way.kind === 'scale-up' && standby) {
    // The rollback's gate then waits for its instances.
    await resizeGroup(rt.clients, standby.groupName, way.min, way.desired).catch((err) =>
      explainAwsError(err, `scaling ${standby.groupName} up`),
    );
  }
  const started = rt.now();
  const code = await runDeploy(prepared, rt);
  if (code === 0) rt.print(`rolled back to ${target.previous} in ${Math.round((rt.now() - started) / 1000)}s (${way.kind})`);
  return code;
}

export async function rollbackCommand(opts: RollbackCommandOptions, projectDir = '.'): Promise<number> {
  const prepared = prepareRollback(opts, projectDir);
  return runRollback(prepared, defaultRuntime(prepared.env));
}
