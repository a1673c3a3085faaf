// Which release a rollback returns to, from the history of the live-release parameter. Pure.
import { UserError } from '../errors';

export interface LiveReleaseVersion {
  readonly version: number;
  readonly release: string;
  readonly changedAt?: Date;
}

export interface RollbackTarget {
  /** The release serving now: the parameter's latest value. */
  readonly live: string;
  readonly liveSince?: Date;
  /** The release that served before it. */
  readonly previous: string;
  /** When the previous release went live. */
  readonly previousSince?: Date;
}

/**
 * The latest value is the live release; the target is the newest older value that differs from it.
 * The pointer only changes after a gate passes, so every value in the history once served traffic.
 */
export function choosePrevious(parameterName: string, history: readonly LiveReleaseVersion[]): RollbackTarget {
  const ordered = [...history].sort((a, b) => a.version - b.version);
  const latest = ordered.at(-1);
  if (!latest) {
    throw new UserError(`nothing to roll back to: ${parameterName} does not exist, so no release has gone live here yet`);
  }
  const previous = ordered.filter((v) => v.release !== latest.release).at(-1);
  if (!previous) {
    throw new UserError(
      `nothing to roll back to: ${parameterName} has only ever held ${latest.release}, so no earlier release has served here`,
    );
  }
  // The live release's run started with the first version after the previous release.
  const liveSince = ordered.find((v) => v.version > previous.version)?.changedAt;
  return { live: latest.release, liveSince, previous: previous.release, previousSince: previous.changedAt };
}
