// Builds one EnvironmentStack per selected environment from validated context, with cdk-nag on every synth.
import { Annotations, type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { unknownInstanceType } from './aws/instance-types';
import { ConfigError, loadSettings, selectEnvironments } from './config/load';
import { parseAmiOverride, parseRelease } from './config/release';
import { longestDeploySeconds } from './config/schema';
import { deployTimeProblem, parseDeployTime, parseRollbackId, parseStandbyRelease } from './config/standby';
import { UserError } from './errors';
import { EnvironmentStack } from './stacks/environment-stack';

/** The raw context values bin/app.ts passes through. */
export interface AppContext {
  readonly app?: unknown;
  readonly appSource?: unknown;
  readonly environments?: unknown;
  /** The directory holding cdk.json. @default - the app's manifest is not read */
  readonly projectRoot?: string;
  /** `-c env=` */
  readonly env?: unknown;
  /** `-c release=` */
  readonly release?: unknown;
  /** `-c ami=` */
  readonly ami?: unknown;
  /** `-c standby=`: the outgoing release, kept warm (environments with `standby` only). */
  readonly standby?: unknown;
  /** `-c deployTime=`: when the deploy starts; the standby's window counts from it. */
  readonly deployTime?: unknown;
  /** `-c rollback=`: a new id for the gate of a switch back to the standby. */
  readonly rollback?: unknown;
  /** Every top-level key of the context. @default - not checked for greenlight settings it does not know */
  readonly contextKeys?: readonly string[];
  /** The time of the synth, to refuse a deploy time whose standby would scale to zero too soon. @default - not checked */
  readonly now?: Date;
}

/** Validates everything first, so a mistake builds nothing. Returns the stacks it built. */
export function buildApp(app: App, context: AppContext): EnvironmentStack[] {
  const settings = loadSettings(context, { projectRoot: context.projectRoot, contextKeys: context.contextKeys });
  const unknownTypes = Object.entries(settings.environments).flatMap(([name, env]) => {
    const problem = unknownInstanceType(env.instanceType);
    return problem ? [`environments.${name}.instanceType: ${problem}`] : [];
  });
  if (unknownTypes.length > 0) throw new ConfigError(unknownTypes);
  const release = parseRelease(context.release);
  const amiId = parseAmiOverride(context.ami);
  const selected = selectEnvironments(settings, context.env);
  const standbyRelease = parseStandbyRelease(context.standby, release);
  const deployTime = parseDeployTime(context.deployTime);
  const rollbackId = parseRollbackId(context.rollback);
  if (standbyRelease !== undefined) {
    if (context.env === undefined) {
      throw new UserError(`-c standby=${standbyRelease}: name the environment it stands by in, with -c env=<name>`);
    }
    const [envName, env] = selected[0];
    if (!env.standby) {
      throw new UserError(`-c standby=${standbyRelease}: environment ${envName} keeps no standby; set environments.${envName}.standby in cdk.json`);
    }
    if (!env.standby.enabled) {
      throw new UserError(
        `-c standby=${standbyRelease}: environment ${envName} has its standby switched off (environments.${envName}.standby.enabled is false); ` +
          `set it to true in cdk.json, or deploy without -c standby`,
      );
    }
    if (deployTime === undefined) {
      throw new UserError(`-c standby=${standbyRelease}: -c deployTime=<UTC time> is required; the standby's window counts from it`);
    }
    const tooLate = context.now ? deployTimeProblem(deployTime, env.standby.window, longestDeploySeconds(env), context.now) : undefined;
    if (tooLate) throw new UserError(tooLate);
  }

  const stacks = selected.map(([envName, env]) => {
    const stack = new EnvironmentStack(app, `${settings.app}-${envName}`, {
      env: { account: env.account, region: env.region },
      description: `greenlight: ${settings.app} ${envName}`,
      app: settings.app,
      envName,
      settings: env,
      release,
      amiId,
      rollbackId,
      standby:
        standbyRelease !== undefined && deployTime !== undefined && env.standby
          ? {
              release: standbyRelease,
              scaleToZeroAt: new Date(deployTime.getTime() + env.standby.window * 1000),
              capacity: env.standby.capacity,
            }
          : undefined,
    });
    if (standbyRelease === undefined && env.standby?.enabled) {
      Annotations.of(stack).addInfo(
        `no -c standby=<release>: the outgoing release is deleted after the cutover, and a rollback relaunches it ` +
          `(greenlight deploy passes the live release as the standby)`,
      );
    }
    Tags.of(stack).add('greenlight:app', settings.app);
    Tags.of(stack).add('greenlight:environment', envName);
    for (const [key, value] of Object.entries(env.tags)) Tags.of(stack).add(key, value);
    return stack;
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stacks;
}
