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

/** The history oldest first, and its latest value: the live release. */
function ordered(parameterName: string, history: readonly LiveReleaseVersion[]): { versions: LiveReleaseVersion[]; latest: LiveReleaseVersion } {
  const versions = [...history].sort((a, b) => a.version - b.version);
  const latest = versions.at(-1);
  if (!latest) {
    throw new UserError(`nothing to roll back to: ${parameterName} does not exist, so no release has gone live here yet`);
  }
  return { versions, latest };
}

/** When the live release's current run started: the first version after the last other release. */
function liveSince(versions: readonly LiveReleaseVersion[], live: string): Date | undefined {
  const lastOther = versions.filter((v) => v.release !== live).at(-1);
  return lastOther ? versions.find((v) => v.version > lastOther.version)?.changedAt : versions[0]?.changedAt;
}

/**
 * The latest value is the live release; the target is the newest older value that differs from it.
 * The pointer only changes after a gate passes, so every value in the history once served traffic.
 */
export function choosePrevious(parameterName: string, history: readonly LiveReleaseVersion[]): RollbackTarget {
  const { versions, latest } = ordered(parameterName, history);
  const previous = versions.filter((v) => v.release !== latest.release).at(-1);
  if (!previous) {
    throw new UserError(
      `nothing to roll back to: ${parameterName} has only ever held ${latest.release}, so no earlier release has served here`,
    );
  }
  return { live: latest.release, liveSince: liveSince(versions, latest.release), previous: previous.release, previousSince: previous.changedAt };
}

/** A release named with --release: it must have served here before, and must not be serving now. */
export function chooseNamed(parameterName: string, history: readonly LiveReleaseVersion[], release: string): RollbackTarget {
  const { versions, latest } = ordered(parameterName, history);
  if (latest.release === release) throw new UserError(`--release ${release}: it is the live release already`);
  const named = versions.filter((v) => v.release === release).at(-1);
  if (!named) {
    const served = [...new Set(versions.map((v) => v.release).reverse())].slice(0, 10).join(', ');
    throw new UserError(
      `--release ${release}: it never served here (${parameterName} has held ${served}); ` +
        'a release that never went live is deployed with `npm run deploy`, not rolled back to',
    );
  }
  return { live: latest.release, liveSince: liveSince(versions, latest.release), previous: release, previousSince: named.changedAt };
}
