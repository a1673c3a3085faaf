// The bake's progress as stored in SSM under /greenlight/<app>/<env>/bake/<release>, written on
// every poll and read back by the next poll and by `greenlight status`, `watch` and `deploy`. Pure.
import type { BakeProgress } from './evaluate';

export interface BakeRecord {
  /** The CloudFormation request this bake belongs to; a new deploy of the same release starts afresh. */
  readonly runId: string;
  readonly release: string;
  readonly durationMs: number;
  readonly settleMs: number;
  readonly maxErrorRate: number;
  readonly progress: BakeProgress;
}

/** Parses a stored record; undefined when absent or not one this version wrote. */
export function parseBakeRecord(value: string | undefined): BakeRecord | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<BakeRecord>;
    const p = parsed.progress as Partial<BakeProgress> | undefined;
    if (typeof parsed.runId !== 'string' || !p || typeof p.startedAt !== 'number' || typeof p.verdict !== 'string') return undefined;
    return parsed as BakeRecord;
  } catch {
    return undefined;
  }
}
