// Progressive traffic's progress as stored in SSM under /greenlight/<app>/<env>/traffic/<release>,
// written on every poll and read back by the next poll, by the clean-up on a failed deploy, and by
// `greenlight status` and `watch`. Pure.
import type { TrafficProgress } from './steps';

export interface TrafficRecord {
  /** The CloudFormation request this run belongs to; a new deploy of the same release starts afresh. */
  readonly runId: string;
  readonly release: string;
  /** The serving listener the steps weight, and the live release's target group it went back to on a failure. */
  readonly listenerArn: string;
  readonly liveTargetGroupArn: string;
  readonly steps: readonly number[];
  readonly progress: TrafficProgress;
}

/** Parses a stored record; undefined when absent or not one this version wrote. */
export function parseTrafficRecord(value: string | undefined): TrafficRecord | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as Partial<TrafficRecord>;
    const p = parsed.progress as Partial<TrafficProgress> | undefined;
    const valid =
      typeof parsed.runId === 'string' &&
      typeof parsed.listenerArn === 'string' &&
      typeof parsed.liveTargetGroupArn === 'string' &&
      Array.isArray(parsed.steps) &&
      p !== undefined &&
      typeof p.step === 'number' &&
      typeof p.verdict === 'string';
    return valid ? (parsed as TrafficRecord) : undefined;
  } catch {
    return undefined;
  }
}
