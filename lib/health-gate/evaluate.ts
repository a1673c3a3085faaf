// The gate's decision as a pure function: (observation, policy, progress) -> verdict.
// No clock, no I/O: the poll's time comes in the observation, so a test or the local rehearsal
// can replay any timeline. docs/health-gate.md states the same rules in prose.
import { attributeDepartures, desiredCapacityView, desiredNote } from './desired-capacity';
import { diagnose, responseCodes } from './diagnose';
import type {
  Evaluate,
  GateDecision,
  GatePolicy,
  GateProgress,
  InstanceObservation,
  ScalingActivityObservation,
  TargetHealthObservation,
} from './types';

/** Instances named in a progress line; the rest are counted as "+N more". */
const LISTED_INSTANCES = 5;

/** Throws when a policy value is out of range; the message names the field and echoes the value. */
export function validatePolicy(policy: GatePolicy): void {
  const check = (field: keyof GatePolicy, min: number, integer: boolean) => {
    const value = policy[field];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new Error(`gate policy ${field}: ${String(value)} must be a ${integer ? 'whole number' : 'number'} of at least ${min}`);
    }
  };
  check('expectedInstances', 1, true);
  check('consecutiveHealthyPolls', 1, true);
  check('pollIntervalMs', 1, false);
  check('timeoutMs', 1, false);
  check('maxReplacedInstances', 0, true);
}

/** `arn:...:targetgroup/web/0123abcd` -> `web`; anything else is kept. */
export const targetGroupLabel = (targetGroup: string): string =>
  targetGroup.match(/targetgroup\/([^/]+)\//)?.[1] ?? targetGroup;

/** `Target.ResponseCodeMismatch [301]`, or the state when the load balancer gives no reason code. */
export function targetReason(health: Pick<TargetHealthObservation, 'state' | 'reasonCode' | 'description'>): string {
  const codes = responseCodes(health.description);
  const base = health.reasonCode ?? health.state;
  // The codes say all that `Health checks failed with these codes: [301]` does; any other text is kept.
  if (codes.length > 0) return `${base} [${codes.join(',')}]`;
  // While registering or on its first checks, the text only restates the code.
  return health.description && health.state !== 'initial' ? `${base} (${health.description})` : base;
}

/**
 * Why one instance is not healthy, or undefined when it is InService, Healthy and `healthy` in
 * every target group. With more than one target group, each failing one is named.
 */
export function instanceReason(
  instance: InstanceObservation,
  targetGroups: readonly string[],
  healthByGroup: ReadonlyMap<string, TargetHealthObservation>,
): string | undefined {
  if (instance.lifecycleState !== 'InService') return instance.lifecycleState;
  if (instance.healthStatus !== 'Healthy') return 'AutoScaling.Unhealthy';
  const failing: string[] = [];
  for (const group of targetGroups) {
    const health = healthByGroup.get(group);
    const reason = !health ? 'Target.NotRegistered' : health.state === 'healthy' ? undefined : targetReason(health);
    if (reason) failing.push(targetGroups.length > 1 ? `${targetGroupLabel(group)}: ${reason}` : reason);
  }
  return failing.length > 0 ? failing.join(', ') : undefined;
}

/** The hint for a reason produced by instanceReason/targetReason (possibly prefixed with a target group). */
export function hintForReason(reason: string): string | undefined {
  const code = reason.match(/(?:^|: )([A-Za-z]+\.[A-Za-z]+)/)?.[1];
  return diagnose(code, reason);
}

/** 900000 -> `15m`, 95000 -> `1m35s`. */
export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  if (minutes === 0) return `${seconds}s`;
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`;
}

const TERMINATION = /Terminating EC2 instance:\s*(i-[0-9a-zA-Z]+)/;
const isLeaving = (state: string) => state.startsWith('Terminating') || state === 'Terminated' || state.startsWith('Detach');

const HEALTHY_NOW = /^healthy now, last /;

function listReasons(entries: ReadonlyArray<readonly [string, string]>): string {
  const shown = entries.slice(0, LISTED_INSTANCES).map(([id, reason]) => `${id}: ${reason}`);
  if (entries.length > LISTED_INSTANCES) shown.push(`+${entries.length - LISTED_INSTANCES} more`);
  return shown.join('; ');
}

/** `i-1: A; i-2: B. Hint for A: ...` — every instance named, each distinct hint once. */
function diagnosis(entries: ReadonlyArray<readonly [string, string]>): string {
  const named = entries.map(([id, reason]) => `${id}: ${reason}`).join('; ');
  const hints = new Map<string, string>();
  for (const [, reason] of entries) {
    const hint = hintForReason(reason);
    // Named by its code (and response codes), without the load balancer's text quoted above.
    if (hint && ![...hints.values()].includes(hint)) hints.set(reason.replace(HEALTHY_NOW, '').replace(/ \([^)]*\)$/, ''), hint);
  }
  const hintText = [...hints].map(([reason, hint]) => ` Hint for ${reason}: ${hint}.`).join('');
  return `${named}.${hintText}`;
}

const decide = (verdict: GateDecision['verdict'], message: string, progress: GateProgress): GateDecision => ({
  verdict,
  message,
  progress: { ...progress, verdict, lastMessage: message },
});

/** The progress of a gate run before its first poll. */
export const freshProgress = (at: number): GateProgress => ({
  startedAt: at,
  lastPollAt: at,
  polls: 0,
  consecutiveHealthy: 0,
  seenInstances: [],
  replacedInstances: [],
  transientPolls: 0,
  missingGroupPolls: 0,
  failedLaunches: [],
  lastReasons: {},
  lastMessage: '',
  verdict: 'wait',
});

/** Polls in a row that find no group before the gate fails: one miss may be eventual consistency. */
export const MISSING_GROUP_POLLS = 2;

/**
 * Launch failures that no retry can fix, by their status message: the gate fails at once, quoting
 * it. Any other failed launch (capacity in one zone, a transient EC2 error) is retried by Auto
 * Scaling, so it counts toward maxReplacedInstances instead.
 */
const PERMANENT_LAUNCH_ERRORS: ReadonlyArray<readonly [RegExp, string]> = [
  [/image id .*does not exist|InvalidAMIID|Not authorized for images/i, 'the AMI cannot be launched'],
  [/IamInstanceProfile|instance profile|iam:PassRole|not authorized to perform/i, 'an IAM or instance-profile error'],
  [
    /instance type[^.]*(is not supported|is invalid|does not exist)(?! in your requested Availability Zone)|requested configuration is currently not supported|architecture [^.]* does not match/i,
    'the instance type cannot run this launch template',
  ],
  [/capacity in (any|all) (of )?(the |your )?(requested |enabled )?Availability Zones/i, 'no capacity in any of the zones'],
];

/** Why a failed launch can never succeed, or undefined when Auto Scaling's retry may. */
export function permanentLaunchError(statusMessage: string | undefined): string | undefined {
  return PERMANENT_LAUNCH_ERRORS.find(([pattern]) => pattern.test(statusMessage ?? ''))?.[1];
}

export const evaluate: Evaluate = (observation, policy, previous) => {
  validatePolicy(policy);
  // A finished gate stays finished: a retried invocation must not turn a verdict around.
  if (previous && previous.verdict !== 'wait') {
    return { verdict: previous.verdict, message: previous.lastMessage, progress: previous };
  }
  // Sooner than half an interval after the last counted poll: a retried invocation, not a new poll.
  if (previous && previous.polls > 0 && observation.at - previous.lastPollAt < policy.pollIntervalMs / 2) {
    return { verdict: 'wait', message: previous.lastMessage, progress: previous };
  }

  const base: GateProgress = previous ?? freshProgress(observation.at);
  const elapsed = observation.at - base.startedAt;
  const timedOut = elapsed >= policy.timeoutMs;
  // The probe's size is the floor; a policy that raised desired capacity raises what the gate waits for.
  const capacity = desiredCapacityView(policy.expectedInstances, observation, base);
  const expected = capacity.expected;

  // A poll that could not see the fleet still counts as a poll (so `watch` moves on), but it neither
  // counts as healthy nor breaks the healthy streak.
  const blind = observation.transientError ?? observation.groupNotFound;
  if (blind) {
    const missing = observation.groupNotFound ? (base.missingGroupPolls ?? 0) + 1 : 0;
    const transient = observation.transientError ? (base.transientPolls ?? 0) + 1 : (base.transientPolls ?? 0);
    const progress: GateProgress = { ...base, lastPollAt: observation.at, polls: base.polls + 1, transientPolls: transient, missingGroupPolls: missing };
    if (observation.groupNotFound && missing >= MISSING_GROUP_POLLS) {
      return decide(
        'fail',
        `Auto Scaling group ${observation.groupNotFound} not found on ${missing} consecutive polls: it was deleted, ` +
          `or the gate names the wrong group`,
        progress,
      );
    }
    if (timedOut) {
      const last = Object.entries(base.lastReasons);
      const detail = last.length > 0 ? ` Last seen: ${diagnosis(last)}` : '';
      return decide('fail', `Gate timed out after ${formatDuration(elapsed)}; the last poll failed with ${blind}.${detail}`, progress);
    }
    const message = observation.groupNotFound
      ? `Auto Scaling group ${observation.groupNotFound} not found (${missing} of ${MISSING_GROUP_POLLS} polls before the gate fails)`
      : `AWS API error on ${transient} poll${transient === 1 ? '' : 's'} so far, retrying: ${observation.transientError}`;
    return decide('wait', message, progress);
  }

  const currentIds = observation.instances.map((i) => i.instanceId);
  const current = new Set(currentIds);
  const departed = new Set<string>();
  for (const id of base.seenInstances) if (!current.has(id)) departed.add(id);
  for (const i of observation.instances) if (isLeaving(i.lifecycleState)) departed.add(i.instanceId);
  for (const a of observation.activities) {
    const id = a.description?.match(TERMINATION)?.[1];
    if (id) departed.add(id);
  }
  // Instances a scale-in removed are gone without having failed: not replacements.
  const departures = attributeDepartures(departed, base.replacedInstances, base.scaledInInstances ?? [], capacity.scaleInAllowance);
  const replaced = new Set(departures.replaced);
  // Newest first, as DescribeScalingActivities returns them.
  const failed = observation.activities.filter((a) => a.statusCode === 'Failed');
  const failedLaunches = new Set([...(base.failedLaunches ?? []), ...failed.map((a) => a.activityId)]);

  const health = new Map<string, Map<string, TargetHealthObservation>>();
  for (const th of observation.targetHealth) {
    const byGroup = health.get(th.instanceId) ?? new Map<string, TargetHealthObservation>();
    byGroup.set(th.targetGroup, th);
    health.set(th.instanceId, byGroup);
  }

  const reasons: Array<[string, string]> = [];
  let inService = 0;
  let healthy = 0;
  for (const instance of observation.instances) {
    if (instance.lifecycleState === 'InService' && instance.healthStatus === 'Healthy') inService++;
    const reason = instanceReason(instance, observation.targetGroups, health.get(instance.instanceId) ?? new Map());
    if (reason) reasons.push([instance.instanceId, reason]);
    else healthy++;
  }
  // At least the expected number InService and Healthy, and every one of those healthy everywhere.
  const healthyPoll = inService >= expected && healthy === inService;
  const consecutiveHealthy = healthyPoll ? base.consecutiveHealthy + 1 : 0;

  const lastReasons: Record<string, string> = { ...base.lastReasons };
  for (const [id, reason] of reasons) lastReasons[id] = reason;

  const progress: GateProgress = {
    ...base,
    lastPollAt: observation.at,
    polls: base.polls + 1,
    consecutiveHealthy,
    seenInstances: [...new Set([...base.seenInstances, ...currentIds])],
    replacedInstances: [...replaced],
    scaledInInstances: departures.scaledIn,
    peakDesired: capacity.peakDesired,
    failedLaunches: [...failedLaunches],
    missingGroupPolls: 0,
    lastReasons,
  };

  // Healthy means healthy in the load balancer's eyes; with no target group there is nothing to
  // see, and "InService" alone would pass a release nobody has requested a page from.
  if (observation.targetGroups.length === 0) {
    return decide(
      'fail',
      'The group is attached to no target group, so the load balancer checks none of its instances; the gate passes only instances healthy in a target group',
      progress,
    );
  }
  const quote = (a: ScalingActivityObservation) => `${a.description ? `${a.description}: ` : ''}${a.statusMessage ?? 'no status message'}`;
  const hopeless = failed.find((a) => permanentLaunchError(a.statusMessage));
  if (hopeless) {
    return decide('fail', `Scaling activity failed (${permanentLaunchError(hopeless.statusMessage)}): ${quote(hopeless)}`, progress);
  }
  const lost = replaced.size + failedLaunches.size;
  const lastFailed = failed[0];
  if (lost > policy.maxReplacedInstances) {
    const gone = [...replaced].map((id): [string, string] => [id, lastReasons[id] ?? 'no health reason recorded']);
    const named = gone.length > 0 ? ` ${diagnosis(gone)}` : '';
    if (failedLaunches.size === 0) {
      return decide('fail', `${replaced.size} instances replaced, more than maxReplacedInstances ${policy.maxReplacedInstances}: a crash loop.${named}`, progress);
    }
    return decide(
      'fail',
      `${replaced.size} instances replaced and ${failedLaunches.size} launches failed, more than maxReplacedInstances ` +
        `${policy.maxReplacedInstances}. The last failed launch: ${lastFailed ? quote(lastFailed) : 'not among the newest activities'}.${named}`,
      progress,
    );
  }

  const summary = `${healthy}/${expected} healthy`;
  if (consecutiveHealthy >= policy.consecutiveHealthyPolls) {
    return decide(
      'pass',
      `${summary} in every target group for ${consecutiveHealthy} consecutive polls after ${formatDuration(elapsed)}`,
      progress,
    );
  }

  const missing = Math.max(0, expected - observation.instances.length);
  if (timedOut) {
    const named: Array<readonly [string, string]> = [...reasons];
    if (named.length === 0) {
      // All healthy now but not for long enough: name what each one last failed with.
      for (const id of currentIds) if (lastReasons[id]) named.push([id, `healthy now, last ${lastReasons[id]}`]);
    }
    const streak = healthyPoll ? ` for ${consecutiveHealthy} of ${policy.consecutiveHealthyPolls} consecutive polls` : '';
    const launch = missing > 0 ? ` ${missing} of ${expected} instances never launched; check the group's scaling activities.` : '';
    const detail = named.length > 0 ? ` ${diagnosis(named)}` : '';
    return decide(
      'fail',
      `Gate timed out after ${formatDuration(elapsed)} with ${summary}${streak}.${launch}${detail}`,
      progress,
    );
  }

  const parts = [healthyPoll ? `${summary} (${consecutiveHealthy}/${policy.consecutiveHealthyPolls} consecutive polls)` : summary];
  if (reasons.length > 0) parts.push(listReasons(reasons));
  if (missing > 0) parts.push(`${missing} not launched yet`);
  const note = desiredNote(policy.expectedInstances, observation.desiredCapacity);
  if (note) parts.push(note);
  if (lost > 0) {
    const launches = failedLaunches.size > 0 ? ` (${failedLaunches.size} failed launch${failedLaunches.size === 1 ? '' : 'es'}, the last: ${lastFailed?.statusMessage ?? 'no status message'})` : '';
    parts.push(`replaced ${lost}/${policy.maxReplacedInstances} allowed${launches}`);
  }
  return decide('wait', parts.join('; '), progress);
};
