// Gate progress records as the gate stores them in SSM, for CLI tests.
import type { ProgressRecord } from '../../lib/health-gate/progress-record';
import { freshProgress } from '../../lib/health-gate/evaluate';
import type { GateProgress } from '../../lib/health-gate/types';

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
