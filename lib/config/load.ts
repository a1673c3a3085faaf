// Validates cdk.json's context before any construct is built, and turns zod's issues into
// one line per problem: `<path>: <value> <what is wrong and what is allowed>`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { UserError } from '../errors';
import { loadManifest } from '../manifest/load';
import { describe } from './fields';
import { configSchema, type EnvironmentSettings, type GreenlightSettings } from './schema';

export class ConfigError extends UserError {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration in cdk.json:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** zod's expected types, in words. */
const EXPECTED: Readonly<Record<string, string>> = {
  object: 'a group of settings, { … }',
  record: 'a group of settings, { … }',
  array: 'a list, [ … ]',
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
};

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
  if (issue.code === 'invalid_type' && issue.input === undefined) return `${where}: is required`;
  // zod's own text ("Invalid input: expected object, received null") names no value.
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
    return `${where}: ${describe(issue.input)} is not allowed; expected ${EXPECTED[issue.expected] ?? issue.expected}`;
  }
  return `${where}: ${issue.message}`;
}

/** The keys of cdk.json's context that hold greenlight's settings. */
export const SETTINGS_KEYS: readonly string[] = ['app', 'appSource', 'environments'];

/** The context bin/app.ts takes from the command line (-c key=value), each checked in lib/config/. */
export const COMMAND_LINE_KEYS: readonly string[] = ['env', 'release', 'ami', 'standby', 'deployTime', 'rollback'];

// The CDK's own context keys carry ':', '@' or '-' (feature flags, lookups' cache,
// "acknowledged-issue-numbers"); greenlight's are plain words, so a plain word it does not read
// is a mistake, such as a misspelt appSource that would switch its checks off.
const PLAIN_WORD = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Edits (insert, delete, replace) from a to b: how close a misspelt key is to a known one. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** Top-level context keys in greenlight's style that it does not read, one line each. */
export function unknownContextKeys(keys: readonly string[]): string[] {
  const known = [...SETTINGS_KEYS, ...COMMAND_LINE_KEYS];
  return keys
    .filter((key) => PLAIN_WORD.test(key) && !known.includes(key))
    .map((key) => {
      const near = known.find((k) => distance(key.toLowerCase(), k.toLowerCase()) <= 2);
      return (
        `${key}: unknown setting${near ? ` (did you mean ${near}?)` : ''}; greenlight reads ${SETTINGS_KEYS.join(', ')} from the context ` +
        `and ${COMMAND_LINE_KEYS.map((k) => `-c ${k}=`).join(', ')} from the command line`
      );
    });
}

export interface LoadOptions {
  /**
   * The directory holding cdk.json, against which `appSource` resolves.
   * @default - `appSource` is not read, and the health paths are not checked against the app's manifest
   */
  readonly projectRoot?: string;
  /**
   * Every top-level key of the context: a plain word among them that greenlight does not read is refused.
   * @default - the top-level keys are not checked
   */
  readonly contextKeys?: readonly string[];
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
  const unknown = options.contextKeys ? unknownContextKeys(options.contextKeys) : [];
  if (!result.success || unknown.length > 0) {
    throw new ConfigError([...unknown, ...(result.success ? [] : result.error.issues.map(describeIssue))]);
  }
  if (result.data.appSource !== undefined && options.projectRoot !== undefined) {
    const appDir = path.resolve(options.projectRoot, result.data.appSource);
    const where = `appSource: ${JSON.stringify(result.data.appSource)}`;
    if (!fs.statSync(appDir, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ConfigError([`${where} is not a directory (${appDir}); expected the app's Django project, relative to cdk.json`]);
    }
    let problems: string[];
    try {
      problems = healthPathProblems(result.data, appDir);
    } catch (err) {
      // The manifest's own message names its file; this names the setting that led there.
      if (err instanceof UserError) throw new ConfigError([`${where}: ${err.message}`]);
      throw err;
    }
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
