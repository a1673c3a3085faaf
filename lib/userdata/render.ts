// Renders userdata/bootstrap.sh for one release: the marker line becomes shell assignments.
// Only identifiers go in; configuration and secrets are loaded from SSM at boot.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const PARAMETERS_MARKER = '# @greenlight-parameters@';
export const BOOTSTRAP_SCRIPT = path.join(__dirname, '..', '..', 'userdata', 'bootstrap.sh');

export interface BootstrapParameters {
  readonly app: string;
  readonly env: string;
  readonly release: string;
  readonly region: string;
  readonly tls: boolean;
}

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** Returns the script with the marker replaced; throws if the script lacks the marker. */
export function renderBootstrap(script: string, params: BootstrapParameters): string {
  const lines = script.split('\n');
  const at = lines.findIndex((line) => line.trim() === PARAMETERS_MARKER);
  if (at < 0) {
    throw new Error(`userdata script has no "${PARAMETERS_MARKER}" line to carry the release parameters`);
  }
  lines.splice(
    at,
    1,
    `GREENLIGHT_APP=${shellQuote(params.app)}`,
    `GREENLIGHT_ENV=${shellQuote(params.env)}`,
    `GREENLIGHT_RELEASE=${shellQuote(params.release)}`,
    `AWS_REGION=${shellQuote(params.region)}`,
    `GREENLIGHT_TLS=${shellQuote(String(params.tls))}`,
    'export GREENLIGHT_APP GREENLIGHT_ENV GREENLIGHT_RELEASE AWS_REGION GREENLIGHT_TLS',
  );
  return lines.join('\n');
}

/** Reads and renders the bootstrap script shipped in userdata/. */
export function renderBootstrapFile(params: BootstrapParameters, file: string = BOOTSTRAP_SCRIPT): string {
  return renderBootstrap(readFileSync(file, 'utf8'), params);
}
