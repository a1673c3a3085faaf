// The project's cdk.json: the only module that reads or writes the file. The CDK app gets the same
// context through the toolkit and checks it with loadSettings.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../errors';
import { loadSettings } from './load';
import type { EnvironmentSettings, GreenlightSettings } from './schema';

export const CDK_JSON = 'cdk.json';

/** cdk.json as a whole: `context` holds greenlight's settings, the other keys are the CDK toolkit's. */
export interface CdkJson {
  readonly context: Record<string, unknown>;
  readonly [key: string]: unknown;
}

/** `<dir>/cdk.json`; plain `cdk.json` for the working directory, as messages name it. */
export const cdkJsonPath = (dir: string): string => path.join(dir, CDK_JSON);

/** cdk.json as parsed; a missing or unparsable file is one line naming it. */
export function readCdkJson(dir = '.'): CdkJson {
  const file = cdkJsonPath(dir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as Error).message}; run greenlight from the project directory`);
  }
  let parsed: { context?: Record<string, unknown> };
  try {
    parsed = JSON.parse(text) as { context?: Record<string, unknown> };
  } catch (err) {
    throw new UserError(`${file} is not valid JSON: ${withLineAndColumn((err as Error).message, text)}`);
  }
  return { ...parsed, context: parsed.context ?? {} };
}

/** JSON.parse's "at position 123" as the line and column an editor shows (from 1). */
export function withLineAndColumn(message: string, text: string): string {
  const match = /\s*at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
  if (!match) return message;
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message.slice(0, match.index)} at line ${line}, column ${column}${message.slice(match.index + match[0].length)}`;
}

/** cdk.json's settings, checked as the synth checks them; `appSource` resolves against `dir`. */
export function readProjectConfig(dir = '.'): GreenlightSettings {
  const { context } = readCdkJson(dir);
  return loadSettings(context, { projectRoot: dir, contextKeys: Object.keys(context) });
}

/** The settings of `--env <name>`; an unknown name lists the environments cdk.json defines. */
export function environmentNamed(settings: GreenlightSettings, name: string): EnvironmentSettings {
  const env = settings.environments[name];
  if (!env) {
    throw new UserError(`--env ${JSON.stringify(name)}: unknown environment; defined in ${CDK_JSON}: ${Object.keys(settings.environments).join(', ')}`);
  }
  return env;
}

/** Writes cdk.json back in its own style (see formatJson). */
export function writeCdkJson(dir: string, cdkJson: CdkJson): void {
  writeFileSync(cdkJsonPath(dir), `${formatJson(cdkJson)}\n`);
}

/** JSON as cdk.json is styled: a value that fits on a line of 120 characters stays on it. */
export function formatJson(value: unknown, indent = '', key = ''): string {
  if (value === null || typeof value !== 'object' || indent.length + key.length + inline(value).length <= 120) return inline(value);
  const inner = `${indent}  `;
  const entries = Array.isArray(value)
    ? value.map((v) => `${inner}${formatJson(v, inner)}`)
    : Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${formatJson(v, inner, `${JSON.stringify(k)}: `)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  return `${open}\n${entries.join(',\n')}\n${indent}${close}`;
}

/** One line: `{ "a": 1, "b": [1, 2] }`. */
function inline(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(inline).join(', ')}]`;
  const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`);
  return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
}
