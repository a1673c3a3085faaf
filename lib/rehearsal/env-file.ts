// `--env-file`: the app's configuration as SSM Parameter Store would hold it, in the env-file syntax
// of greenlight-config and systemd's EnvironmentFile (NAME=VALUE, optional quotes, # comments).
import * as fs from 'node:fs';
import { UserError } from '../errors';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function unquote(raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  if (raw.length >= 2 && raw.startsWith("'") && raw.endsWith("'")) return raw.slice(1, -1);
  return raw;
}

/** Parses env-file text; `file` names it in errors, which never echo a value. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const values: Record<string, string> = {};
  text.split('\n').forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const at = trimmed.indexOf('=');
    const name = at > 0 ? trimmed.slice(0, at).trim() : '';
    if (!NAME.test(name)) throw new UserError(`--env-file ${file}:${i + 1}: expected NAME=VALUE with NAME of letters, digits and underscores`);
    values[name] = unquote(trimmed.slice(at + 1).trim());
  });
  return values;
}

export function readEnvFile(file: string | undefined): Record<string, string> | undefined {
  if (file === undefined) return undefined;
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UserError(`--env-file ${JSON.stringify(file)}: no such file`);
  return parseEnvFile(fs.readFileSync(file, 'utf8'), file);
}
