// The smoke checks' result as stored in SSM under /greenlight/<app>/<env>/smoke/<release>. Pure.
import type { SmokeResult } from './evaluate';

export interface SmokeRecord {
  /** The CloudFormation request this run belongs to. */
  readonly runId: string;
  readonly release: string;
  /** Epoch milliseconds when the checks finished. */
  readonly at: number;
  readonly verdict: 'pass' | 'fail';
  readonly message: string;
  readonly results: readonly SmokeResult[];
}

/** Parses a stored record; undefined when absent or not one this version wrote. */
export function parseSmokeRecord(value: string | undefined): SmokeRecord | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<SmokeRecord>;
    if (typeof parsed.at !== 'number' || (parsed.verdict !== 'pass' && parsed.verdict !== 'fail') || typeof parsed.message !== 'string') {
      return undefined;
    }
    return parsed as SmokeRecord;
  } catch {
    return undefined;
  }
}
