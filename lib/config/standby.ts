// The context a deploy with a standby takes: `-c standby=<release>`, `-c deployTime=<ISO time>` and
// `-c rollback=<id>`. Each is checked here, so a mistake builds nothing.
import { UserError } from '../errors';
import { RELEASE_PATTERN } from './release';

/** Validates `-c standby=<release>`: the outgoing release, kept warm. */
export function parseStandbyRelease(value: unknown, release: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !RELEASE_PATTERN.test(value)) {
    throw new UserError(
      `-c standby=${String(value)}: not a valid release id; expected 1–63 letters, digits, dots or hyphens, starting with a letter or digit`,
    );
  }
  if (value === release) {
    throw new UserError(`-c standby=${value}: the standby must be another release than -c release=${release}`);
  }
  return value;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** Validates `-c deployTime=2026-11-22T10:00:00Z`: when the deploy starts, which the standby's window counts from. */
export function parseDeployTime(value: unknown): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const time = typeof value === 'string' && ISO_UTC.test(value) ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime())) {
    throw new UserError(`-c deployTime=${String(value)}: not a UTC time; expected ISO 8601 such as 2026-11-22T10:00:00Z`);
  }
  return time;
}

/** How long after its deploy time a synth may run: greenlight deploy synthesizes within seconds of the start it passes. */
export const DEPLOY_START_SLACK = 300;

/**
 * A deploy time whose standby would scale to zero before the deploy could be over: Auto Scaling
 * refuses a scheduled action that starts in the past, and a standby gone during the deploy cannot
 * be switched back to. One line, or nothing when the time is fine.
 */
export function deployTimeProblem(deployTime: Date, windowSeconds: number, longestDeploySeconds: number, now: Date): string | undefined {
  const scaleToZeroAt = new Date(deployTime.getTime() + windowSeconds * 1000);
  // The synth comes a little after the start it is given; the schema holds the window to the
  // longest deploy from that start, so a synth within DEPLOY_START_SLACK of it always passes.
  if (scaleToZeroAt.getTime() >= now.getTime() + (longestDeploySeconds - DEPLOY_START_SLACK) * 1000) return undefined;
  const when = scaleToZeroAt.getTime() <= now.getTime() ? 'in the past' : `before this deploy can be over (it may take ${longestDeploySeconds}s)`;
  return (
    `-c deployTime=${scheduleTime(deployTime)}: the standby would scale to zero at ${scheduleTime(scaleToZeroAt)}, ${when}; ` +
    `it is now ${scheduleTime(now)}: pass the time this deploy starts, as greenlight deploy does`
  );
}

const ROLLBACK_ID = /^[A-Za-z0-9]{1,24}$/;

/** Validates `-c rollback=<id>`: makes the health gate of a switch back a resource of its own. */
export function parseRollbackId(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !ROLLBACK_ID.test(value)) {
    throw new UserError(`-c rollback=${String(value)}: not a rollback id; expected 1–24 letters or digits, e.g. 20261122T100000Z`);
  }
  return value;
}

/** A scheduled action's StartTime: whole seconds, UTC. */
export const scheduleTime = (at: Date): string => at.toISOString().replace(/\.\d{3}Z$/, 'Z');
