// Validates cdk.json's context before any construct is built, and turns zod's issues into
// one line per problem: `<path>: <value> <what is wrong and what is allowed>`.
import * as path from 'node:path';
import type { z } from 'zod';
import { UserError } from '../errors';
import { loadManifest } from '../manifest/load';
import { configSchema, type EnvironmentSettings, type GreenlightSettings } from './schema';

export class ConfigError extends UserError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration in cdk.json:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const pathOf = (path: readonly PropertyKey[]): string =>
  path.map((key) => (typeof key === 'number' ? `[${key}]` : String(key))).join('.').replace(/\.\[/g, '[');

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = pathOf(issue.path) || '(context)';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${where ? `${where}.` : ''}${key}: unknown setting`).join('\n  ');
  }
  if (issue.code === 'invalid_key') {
    return `${where}: ${issue.issues.map((inner) => inner.message).join('; ')}`;
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return `${where}: is required`;
  }
  return `${where}: ${issue.message}`;
}

export interface LoadOptions {
  /**
   * The directory holding cdk.json, against which `appSource` resolves.
   * @default - `appSource` is not read, and the health paths are not checked against the app's manifest
   */
  readonly projectRoot?: string;
}

/**
 * Parses the `app`, `appSource` and `environments` context values; throws ConfigError listing every
 * problem. With a project root and an `appSource`, the app's manifest is read too: nginx serves only
 * the manifest's health-path and liveness-path without the HTTPS redirect, so an HTTPS environment
 * must check one of them.
 */
export function loadSettings(
  context: { readonly app?: unknown; readonly appSource?: unknown; readonly environments?: unknown },
  options: LoadOptions = {},
): GreenlightSettings {
  const result = configSchema.safeParse(
    { app: context.app, appSource: context.appSource, environments: context.environments },
    { reportInput: true },
  );
  if (!result.success) {
    throw new ConfigError(result.error.issues.map(describeIssue));
  }
  if (result.data.appSource !== undefined && options.projectRoot !== undefined) {
    const problems = healthPathProblems(result.data, path.resolve(options.projectRoot, result.data.appSource));
    if (problems.length > 0) throw new ConfigError(problems);
  }
  return result.data;
}

/** HTTPS environments whose health check would get nginx's redirect, as the app's manifest sets nginx up. */
function healthPathProblems(settings: GreenlightSettings, appDir: string): string[] {
  const manifest = loadManifest(appDir);
  const exempt = [manifest.healthPath, ...(manifest.livenessPath !== undefined ? [manifest.livenessPath] : [])];
  const allowed = [`health-path ${JSON.stringify(manifest.healthPath)}`, ...(manifest.livenessPath !== undefined ? [`liveness-path ${JSON.stringify(manifest.livenessPath)}`] : [])];
  return Object.entries(settings.environments)
    .filter(([, env]) => env.listener.protocol === 'HTTPS' && !exempt.includes(env.healthCheck.path.split('?')[0]))
    .map(
      ([name, env]) =>
        `environments.${name}.healthCheck.path: ${JSON.stringify(env.healthCheck.path)} would get nginx's HTTPS redirect (a 301) ` +
        `on the load balancer's plain-HTTP check; with an HTTPS listener allowed the app's ${allowed.join(' or ')} (${manifest.file})`,
    );
}

/** The environments to build: the one named by `-c env=`, or all of them. */
export function selectEnvironments(
  settings: GreenlightSettings,
  envName: unknown,
): ReadonlyArray<readonly [string, EnvironmentSettings]> {
  const all = Object.entries(settings.environments);
  if (envName === undefined) return all;
  const defined = all.map(([name]) => name).join(', ');
  if (typeof envName !== 'string' || !(envName in settings.environments)) {
    throw new UserError(`-c env=${String(envName)}: unknown environment; defined in cdk.json: ${defined}`);
  }
  return all.filter(([name]) => name === envName);
}
