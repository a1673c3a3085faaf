// The environment a CLI command is about: cdk.json's settings for `--env`, checked like the synth does.
import { environmentNamed, readProjectConfig } from '../config/project';
import type { EnvironmentSettings } from '../config/schema';
import { UserError } from '../errors';

export interface CliEnvironment {
  readonly app: string;
  readonly envName: string;
  readonly settings: EnvironmentSettings;
  /** The environment's stack, `<app>-<env>`. */
  readonly stackName: string;
}

/** `--env`'s environment in the cdk.json of `projectDir`. */
export function loadEnvironment(envName: string | undefined, projectDir = '.'): CliEnvironment {
  if (!envName) throw new UserError('--env <name> is required: the environment in cdk.json, e.g. --env staging');
  const config = readProjectConfig(projectDir);
  const settings = environmentNamed(config, envName);
  return { app: config.app, envName, settings, stackName: `${config.app}-${envName}` };
}

/** AWS errors that are the caller's setup (no credentials, no permission) become one-line user errors. */
export function explainAwsError(err: unknown, doing: string): never {
  const e = err as Error & { $metadata?: { httpStatusCode?: number } };
  const setup =
    e?.name === 'CredentialsProviderError' ||
    e?.name === 'AccessDeniedException' ||
    e?.name === 'AccessDenied' ||
    e?.name === 'UnrecognizedClientException' ||
    e?.name === 'InvalidClientTokenId' ||
    e?.name === 'ExpiredTokenException' ||
    e?.$metadata?.httpStatusCode === 403;
  if (setup) throw new UserError(`${doing}: ${e.name}: ${e.message.split('\n')[0]}`);
  if (e?.message === 'Region is missing') throw new UserError(`${doing}: no AWS region; set AWS_REGION`);
  throw err;
}
