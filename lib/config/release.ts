// The release id names resources, SSM parameters and tags, so it is held to a safe character set.
import { UserError } from '../errors';

export const RELEASE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/;
export const AMI_PATTERN = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;

/** Validates `-c release=<id>`. */
export function parseRelease(value: unknown): string {
  if (value === undefined || value === '') {
    throw new UserError(
      '-c release=<id> is required: the release to deploy, e.g. -c release=2026.11.22-3f9c2ab',
    );
  }
  if (typeof value !== 'string' || !RELEASE_PATTERN.test(value)) {
    throw new UserError(
      `-c release=${String(value)}: not a valid release id; expected 1–63 letters, digits, dots or hyphens, starting with a letter or digit`,
    );
  }
  return value;
}

/** Validates the optional `-c ami=ami-…` override. */
export function parseAmiOverride(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !AMI_PATTERN.test(value)) {
    throw new UserError(`-c ami=${String(value)}: not an AMI id; expected "ami-" and 8 or 17 hex digits`);
  }
  return value;
}
