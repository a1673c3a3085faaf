// The gate's progress as stored in SSM under /greenlight/<app>/<env>/gate/<release>, written by
// the gate on every poll and read back by the next poll and by `greenlight watch`. Pure.
import type { GateProgress, Observation } from './types';

/** A parameter value must stay within SSM's Advanced tier limit. */
export const MAX_RECORD_CHARS = 8192;
/** Reasons kept when a large fleet's record must shrink. */
const KEPT_REASONS = 20;

export interface ObservationSummary {
  readonly instances: number;
  readonly inService: number;
  readonly targetGroups: number;
  readonly activities: number;
  readonly transientError?: string;
}

export interface ProgressRecord {
  /** The CloudFormation request this gate run belongs to; a new deploy of the same release starts afresh. */
  readonly runId: string;
  readonly release: string;
  readonly groupName: string;
  readonly expectedInstances: number;
  readonly timeoutMs: number;
  /** The last observation, in counts. */
  readonly observed: ObservationSummary;
  readonly progress: GateProgress;
}

export const summarise = (o: Observation): ObservationSummary => ({
  instances: o.instances.length,
  inService: o.instances.filter((i) => i.lifecycleState === 'InService').length,
  targetGroups: o.targetGroups.length,
  activities: o.activities.length,
  ...(o.transientError ? { transientError: o.transientError } : {}),
});

/**
 * JSON that fits a parameter. A fleet of hundreds would overflow it with instance ids, so the
 * reasons are cut to the first few and the seen-instance list is dropped: replacements are then
 * still found through termination activities and Terminating instances.
 */
export function serialiseRecord(record: ProgressRecord): string {
  const full = JSON.stringify(record);
  if (full.length <= MAX_RECORD_CHARS) return full;
  const reasons = Object.fromEntries(Object.entries(record.progress.lastReasons).slice(0, KEPT_REASONS));
  const trimmed: ProgressRecord = {
    ...record,
    progress: {
      ...record.progress,
      seenInstances: [],
      lastReasons: reasons,
      replacedInstances: record.progress.replacedInstances.slice(0, 100),
      lastMessage: record.progress.lastMessage.slice(0, 3000),
    },
  };
  return JSON.stringify(trimmed);
}

/** Parses a stored record; undefined when absent or not a record this version wrote. */
export function parseRecord(value: string | undefined): ProgressRecord | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<ProgressRecord>;
    const p = parsed.progress as Partial<GateProgress> | undefined;
    if (typeof parsed.runId !== 'string' || !p || typeof p.startedAt !== 'number' || typeof p.verdict !== 'string') {
      return undefined;
    }
    return parsed as ProgressRecord;
  } catch {
    return undefined;
  }
}
