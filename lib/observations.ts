// What one poll of AWS saw, in greenlight's words: the adapters in lib/aws/ build these from the
// SDK's answers, and the pure cores (the gate's evaluate(), the bake's evaluateBake(), progressive
// traffic's evaluateTrafficStep()) judge them; the local rehearsal builds the same from HAProxy.
// Plain data, so neither side imports the other.

// The health gate's poll: the new group, its targets' health and its scaling activities.

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

// The bake's poll: the release's target group and the named alarms.

/** A named alarm's state as CloudWatch reports it: OK, ALARM or INSUFFICIENT_DATA. */
export interface AlarmObservation {
  readonly name: string;
  readonly state: string;
  /** CloudWatch's state reason, quoted on a breach. */
  readonly reason?: string;
}

/** Everything one poll of the bake saw. Counts are cumulative since the bake started (the cutover). */
export interface BakeObservation {
  /** Epoch milliseconds of the poll. */
  readonly at: number;
  /** Requests the release's target group answered since the cutover. */
  readonly requests: number;
  /** Of those, the 5xx answers from the release's instances. */
  readonly errors5xx: number;
  readonly healthyHosts: number;
  readonly unhealthyHosts: number;
  /** The state of each alarm the policy names; one missing from here does not exist. */
  readonly alarms: readonly AlarmObservation[];
  /** Set when the poll hit a throttle or another transient error: the bake waits. */
  readonly transientError?: string;
}

// Progressive traffic's poll: both releases over the same window, the new one's targets and the alarms.

/** One release's figures over a step's window. */
export interface ReleaseFigures {
  readonly requests: number;
  /** Of those, the 5xx answers from the release's instances. */
  readonly errors5xx: number;
  /** The p99 response time in milliseconds; undefined when none was published for the window. */
  readonly p99Ms?: number;
}

/** Everything one poll saw, over the current step's window (the same minutes for both releases). */
export interface TrafficObservation {
  /** Epoch milliseconds of the poll. */
  readonly at: number;
  readonly release: ReleaseFigures;
  readonly live: ReleaseFigures;
  /** The new release's targets right now. */
  readonly healthyHosts: number;
  readonly unhealthyHosts: number;
  readonly alarms: readonly AlarmObservation[];
  /** Set when the poll hit a throttle or another transient error: the step waits. */
  readonly transientError?: string;
}
