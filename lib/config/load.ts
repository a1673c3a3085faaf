// Validates cdk.json's context before any construct is built, and turns zod's issues into
// one line per problem: `<path>: <value> <what is wrong and what is allowed>`.
import type { z } from 'zod';
import { UserError } from '../errors';
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

/** Parses the `app` and `environments` context values; throws ConfigError listing every problem. */
export function loadSettings(context: { readonly app?: unknown; readonly environments?: unknown }): GreenlightSettings {
  const result = configSchema.safeParse(
    { app: context.app, environments: context.environments },
    { reportInput: true },
  );
  if (!result.success) {
    throw new ConfigError(result.error.issues.map(describeIssue));
  }
  return result.data;
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
