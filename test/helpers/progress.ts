// Gate, smoke, traffic and bake records as the handlers store them in SSM, for CLI tests.
import { type BakeProgress, freshBakeProgress } from '../../lib/bake/evaluate';
import type { BakeRecord } from '../../lib/bake/record';
import type { SmokeRecord } from '../../lib/smoke/record';
import type { ProgressRecord } from '../../lib/health-gate/progress-record';
import { freshProgress } from '../../lib/health-gate/evaluate';
import type { GateProgress } from '../../lib/health-gate/types';
import type { TrafficRecord } from '../../lib/traffic/record';
import { startTraffic, type TrafficProgress } from '../../lib/traffic/steps';

export function progressRecord(release: string, progress: Partial<GateProgress>): ProgressRecord {
  return {
    runId: 'req-1',
    release,
    groupName: 'g',
    expectedInstances: 2,
    timeoutMs: 900_000,
    observed: { instances: 2, inService: 2, targetGroups: 1, activities: 0 },
    progress: { ...freshProgress(0), polls: 1, ...progress },
  };
}

/** The smoke checks' result as the smoke handler stores it. */
export function smokeRecord(release: string, verdict: 'pass' | 'fail', message: string, at = 0): SmokeRecord {
  return { runId: 'req-1', release, at, verdict, message, results: [] };
}

/** The bake's progress as the bake handler stores it. */
export function bakeRecord(release: string, progress: Partial<BakeProgress>): BakeRecord {
  return {
    runId: 'req-1',
    release,
    durationMs: 600_000,
    settleMs: 180_000,
    maxErrorRate: 1,
    progress: { ...freshBakeProgress(0), polls: 1, ...progress },
  };
}

/** The traffic steps' progress as the step handler stores it. */
export function trafficRecord(release: string, steps: readonly number[], progress: Partial<TrafficProgress>): TrafficRecord {
  return {
    runId: 'req-1',
    release,
    listenerArn: 'l-80',
    liveTargetGroupArn: 'tg-live',
    steps,
    progress: { ...startTraffic(0, { steps }), polls: 1, ...progress },
  };
}
