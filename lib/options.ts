// Checks of the command-line option values shared by the CLI, publish-ami and the rehearsal: each
// error names the flag, echoes the value and says what is allowed.
import { AMI_PATTERN, RELEASE_PATTERN } from './config/release';
import { UserError } from './errors';

/** A number option within [min, max], whole when `integer`; undefined when not given. */
export function numberOption(flag: string, raw: string | undefined, min: number, max: number, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new UserError(`${flag} ${JSON.stringify(raw)}: expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return value;
}

/** A whole-number option within [min, max]. */
export const wholeOption = (flag: string, raw: string | undefined, min: number, max: number): number | undefined =>
  numberOption(flag, raw, min, max, true);

/** `--release <id>`: required, in the safe character set release ids are held to. */
export function releaseOption(raw: string | undefined, purpose: string): string {
  if (!raw) throw new UserError(`--release <id> is required: ${purpose}`);
  if (!RELEASE_PATTERN.test(raw)) {
    throw new UserError(
      `--release ${JSON.stringify(raw)}: not a valid release id; expected 1–63 letters, digits, dots or hyphens, starting with a letter or digit`,
    );
  }
  return raw;
}

/** `--ami ami-…`: optional. */
export function amiOption(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!AMI_PATTERN.test(raw)) throw new UserError(`--ami ${JSON.stringify(raw)}: not an AMI id; expected "ami-" and 8 or 17 hex digits`);
  return raw;
}

/** `--interval <seconds>` between reads of the gate's progress, in milliseconds (default 5 s). */
export const pollIntervalMs = (raw: string | undefined): number => (wholeOption('--interval', raw, 1, 300) ?? 5) * 1000;
