// The settings' defaults and bounds: AWS's documented limits for an ALB target group, Auto Scaling
// and CloudFormation's custom resources, and greenlight's own where AWS sets none. The schema
// (schema.ts) checks cdk.json against them; docs/configuration.md lists them.
import { MATCHER_CODES } from './fields';
import { maxGateTimeout } from '../health-gate/time-limits';
import { maxBakeDuration } from '../time-limits';

/** The default health check: a real readiness path, and patience before declaring an instance dead. */
export const HEALTH_CHECK_DEFAULTS = {
  path: '/health/',
  interval: 15,
  timeout: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 10,
  matcher: '200',
} as const;

export const GATE_DEFAULTS = {
  consecutiveHealthyPolls: 3,
  pollInterval: 15,
  timeout: 900,
  maxReplacedInstances: 2,
} as const;

export const LIMITS = {
  interval: [5, 300],
  timeout: [2, 120],
  threshold: [2, 10],
  matcherCode: MATCHER_CODES,
  deregistrationDelay: [0, 3600],
  healthCheckGracePeriod: [0, 7200],
  // An Application Load Balancer needs subnets in two availability zones or more.
  maxAzs: [2, 6],
  consecutiveHealthyPolls: [1, 20],
  pollInterval: [5, 300],
  // CloudFormation waits at most an hour for a custom resource; the gate must fail first, with its
  // diagnosis. The upper bound is for the shortest poll interval; a longer one lowers it.
  gateTimeout: [60, maxGateTimeout(5)],
  maxReplacedInstances: [0, 100],
  capacity: [1, 1000],
  smokePaths: [1, 20],
  // Each is an inbound rule of the load balancer's security group, which holds 60.
  previewCidrs: [0, 50],
  smokeTimeout: [1, 60],
  // The load balancer's metrics come in 60-second periods, so a shorter bake sees no full period.
  // CloudFormation waits at most an hour for the bake, which also settles, may give up on missing
  // figures, polls once more and reports: 2970 s is the longest that fits.
  bakeDuration: [60, maxBakeDuration()],
  maxErrorRate: [0, 100],
  maxErrors: [0, 1_000_000],
  bakeAlarms: [0, 10],
  // Target tracking: a CPU target is a percentage; requests per target per minute is greenlight's
  // own bound (AWS takes any positive number). An Auto Scaling group holds at most 125 scheduled actions.
  cpuUtilization: [1, 100],
  requestsPerTarget: [1, 1_000_000],
  scheduledActions: [1, 125],
  // The standby's scale-to-zero is a scheduled action, which AWS refuses with a start time in the
  // past; the window also has to outlast the deploy itself (see the environment's check below).
  standbyWindow: [600, 604_800],
  // Progressive traffic: the new release's percentages before 100, and how each step is judged.
  // A step shorter than a minute sees no full period of the load balancer's metrics; an ALB's
  // target-group stickiness lasts 1 s to 7 days.
  trafficSteps: [1, 5],
  trafficStepPercent: [1, 99],
  trafficStepDuration: [60, 1800],
  trafficStickiness: [1, 604_800],
  trafficErrorMargin: [0, 100],
  trafficConfidence: [80, 99.9],
  trafficMinRequests: [1, 1_000_000],
  trafficLatencyRatio: [1, 100],
  trafficLatencyFloorMs: [0, 60_000],
  trafficMaxExtension: [0, 1800],
} as const;

/** Room for the capacity probe, the fleet's launch and the smoke checks in a standby's window. */
export const STANDBY_DEPLOY_MARGIN = 300;

/** The preview route's header; its value is the release id. */
export const PREVIEW_DEFAULTS = { header: 'X-Greenlight-Release' } as const;

export const SMOKE_DEFAULTS = { expectedStatuses: '200', timeout: 10 } as const;

export const STANDBY_DEFAULTS = { window: 3600, capacity: 'full' as 'full' | number } as const;

/**
 * Progressive traffic's comparison with the live release. A step with too few requests to judge
 * fails by default: greenlight takes no release live that it could not judge, and a quiet
 * environment says so knowingly with `onTooFewRequests: "pass"` (the bake still watches it).
 */
export const TRAFFIC_DEFAULTS = {
  stepDuration: 300,
  errorMargin: 1,
  confidence: 99,
  minRequests: 100,
  latencyRatio: 1.5,
  latencyFloorMs: 100,
  maxExtension: 300,
  onTooFewRequests: 'fail' as 'fail' | 'pass',
} as const;

export const BAKE_DEFAULTS = { maxErrorRate: 1, maxErrors: 0, alarms: [] as readonly string[] } as const;
