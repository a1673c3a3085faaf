// Shared vocabulary of the health gate. The Lambda runtime and the local rehearsal both
// speak it, so nothing here may import aws-cdk-lib or an AWS SDK client.

/** What the gate is asked to enforce. Plain numbers: the Lambda bundle stays free of aws-cdk-lib. */
export interface GatePolicy {
  /** Instances that must be InService, Healthy and `healthy` in every target group. */
  readonly expectedInstances: number;
  /** K: consecutive all-healthy polls before the gate passes. */
  readonly consecutiveHealthyPolls: number;
  /** Milliseconds between polls; a call sooner than half of this is a retry and counts nothing. */
  readonly pollIntervalMs: number;
  /** Milliseconds from the gate's start until it fails. */
  readonly timeoutMs: number;
  /** More replacements than this is a crash loop. */
  readonly maxReplacedInstances: number;
}

/** One instance of the new group, as the Auto Scaling group reports it. */
export interface InstanceObservation {
  readonly instanceId: string;
  /** Pending, InService, Terminating, ... */
  readonly lifecycleState: string;
  /** Healthy or Unhealthy. */
  readonly healthStatus: string;
}

/** One instance's health in one target group (DescribeTargetHealth). */
export interface TargetHealthObservation {
  readonly targetGroup: string;
  readonly instanceId: string;
  /** initial, healthy, unhealthy, unused, draining, unavailable */
  readonly state: string;
  readonly reasonCode?: string;
  readonly description?: string;
}

/** One scaling activity of the new group since the gate started. */
export interface ScalingActivityObservation {
  readonly activityId: string;
  /** Successful, Failed, Cancelled, InProgress, ... */
  readonly statusCode: string;
  readonly statusMessage?: string;
  readonly description?: string;
}

/** Everything one poll saw. */
export interface Observation {
  /** Epoch milliseconds of the poll. */
  readonly at: number;
  readonly instances: readonly InstanceObservation[];
  /** Names or ARNs of every target group the new group is attached to. */
  readonly targetGroups: readonly string[];
  readonly targetHealth: readonly TargetHealthObservation[];
  readonly activities: readonly ScalingActivityObservation[];
  /** The group's desired capacity now, which a scaling policy may have changed; absent when unknown. */
  readonly desiredCapacity?: number;
  /** Set when the poll hit a throttle or another transient error: the gate waits. */
  readonly transientError?: string;
  /** Set when the group itself was not found: twice in a row fails the gate. */
  readonly groupNotFound?: string;
}

/** What the gate remembers between polls (persisted in SSM by the Lambda, in memory by the rehearsal). */
export interface GateProgress {
  /** Epoch milliseconds of the first poll. */
  readonly startedAt: number;
  /** Epoch milliseconds of the last poll that was counted. */
  readonly lastPollAt: number;
  /** Polls counted so far. */
  readonly polls: number;
  readonly consecutiveHealthy: number;
  /** Every instance id the new group has had; one that leaves it counts as replaced. */
  readonly seenInstances: readonly string[];
  readonly replacedInstances: readonly string[];
  /** Instances a scale-in removed: gone, but not replacements. Absent in records of older gates. */
  readonly scaledInInstances?: readonly string[];
  /** The highest desired capacity the group has reported. */
  readonly peakDesired?: number;
  /** Polls that hit a transient API error, so `watch` shows them as they happen. */
  readonly transientPolls?: number;
  /** Consecutive polls that found no group; reset when it is found. */
  readonly missingGroupPolls?: number;
  /** Failed launch activities (ids) Auto Scaling retries; they count like replaced instances. */
  readonly failedLaunches?: readonly string[];
  /** The last reason each instance was not healthy, kept for the timeout diagnosis. */
  readonly lastReasons: Readonly<Record<string, string>>;
  /** The last progress line or verdict reason. */
  readonly lastMessage: string;
  readonly verdict: 'wait' | 'pass' | 'fail';
}

/** What evaluate returns: the verdict, a one-line message, and the progress to store. */
export interface GateDecision {
  readonly verdict: 'wait' | 'pass' | 'fail';
  /** `2/4 healthy; i-0ab: Target.ResponseCodeMismatch [301]` while waiting, the reason on pass or fail. */
  readonly message: string;
  readonly progress: GateProgress;
}

/** The pure core: (observation, policy, progress) -> decision. Implemented in evaluate.ts. */
export type Evaluate = (
  observation: Observation,
  policy: GatePolicy,
  progress: GateProgress | undefined,
) => GateDecision;
