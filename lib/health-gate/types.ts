// Shared vocabulary of the health gate. The Lambda runtime and the local rehearsal both
// speak it, so nothing here may import aws-cdk-lib or an AWS SDK client. What a poll saw is in
// lib/observations.ts, which lib/aws/ fills in.
import type { Observation } from '../observations';

export type { InstanceObservation, Observation, ScalingActivityObservation, TargetHealthObservation } from '../observations';

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
