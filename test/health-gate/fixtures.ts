// Builders for gate observations, shared by the health-gate tests.
import type {
  GatePolicy,
  InstanceObservation,
  Observation,
  ScalingActivityObservation,
  TargetHealthObservation,
} from '../../lib/health-gate/types';

export const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web/0123456789abcdef';
export const TG2 = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/api/fedcba9876543210';

export const policy = (overrides: Partial<GatePolicy> = {}): GatePolicy => ({
  expectedInstances: 2,
  consecutiveHealthyPolls: 3,
  pollIntervalMs: 15_000,
  timeoutMs: 900_000,
  maxReplacedInstances: 2,
  ...overrides,
});

export const inService = (instanceId: string, healthStatus = 'Healthy'): InstanceObservation => ({
  instanceId,
  lifecycleState: 'InService',
  healthStatus,
});

export const pending = (instanceId: string): InstanceObservation => ({
  instanceId,
  lifecycleState: 'Pending',
  healthStatus: 'Healthy',
});

export const healthy = (instanceId: string, targetGroup = TG): TargetHealthObservation => ({
  targetGroup,
  instanceId,
  state: 'healthy',
});

export const unhealthy = (
  instanceId: string,
  reasonCode: string,
  description?: string,
  targetGroup = TG,
): TargetHealthObservation => ({ targetGroup, instanceId, state: 'unhealthy', reasonCode, description });

export const failedActivity = (statusMessage: string): ScalingActivityObservation => ({
  activityId: 'act-1',
  statusCode: 'Failed',
  statusMessage,
  description: 'Launching a new EC2 instance. Status Reason: failed',
});

/** An observation at `at` seconds after the epoch of the test. */
export const observe = (at: number, parts: Partial<Omit<Observation, 'at'>> = {}): Observation => ({
  at: at * 1000,
  instances: [],
  targetGroups: [TG],
  targetHealth: [],
  activities: [],
  ...parts,
});

/** Both instances InService and healthy in the one target group. */
export const allHealthy = (at: number, ids: readonly string[] = ['i-a', 'i-b']): Observation =>
  observe(at, { instances: ids.map((id) => inService(id)), targetHealth: ids.map((id) => healthy(id)) });
