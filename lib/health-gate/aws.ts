// The only module that calls AWS. The gate, the capacity probe and the CLI go through it, and tests
// replace the SDK underneath with aws-sdk-client-mock. Clients are built with the SDK's defaults, so
// AWS_ENDPOINT_URL, AWS_REGION and AWS_RETRY_MODE work as everywhere else; the timeouts and the
// attempt count are fixed so that one gate poll always ends inside its function's 60-second limit.
import {
  type Activity,
  AutoScalingClient,
  type AutoScalingGroup,
  DescribeScalingActivitiesCommand,
  paginateDescribeAutoScalingGroups,
  paginateDescribePolicies,
  paginateDescribeScheduledActions,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
  type Filter,
  type ScalingPolicy,
  type ScheduledUpdateGroupAction,
} from '@aws-sdk/client-auto-scaling';
import {
  type Action,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { getParameterValue } from '../ssm-parameter';
import { RELEASE_TAG } from '../ssm-paths';
import type { Observation, ScalingActivityObservation, TargetHealthObservation } from './types';

export interface AwsClients {
  readonly autoScaling: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
}

/**
 * The retry budget of one call: a poll makes at most four calls one after another (progress read,
 * group, target health with activities, progress write), each at most `maxAttempts` ×
 * (connection + request timeout) plus the SDK's backoff: about 4 × 2 × 5 s = 40 s of the 60 s.
 * A call that still fails is a transient error: the gate waits for its next poll.
 */
export const CALL_BUDGET = { connectionTimeoutMs: 1500, requestTimeoutMs: 3500, maxAttempts: 2 } as const;

/** Clients with the SDK's standard configuration; `region` only when the caller knows better than the environment. */
export function createClients(region?: string, budget: { readonly connectionTimeoutMs: number; readonly requestTimeoutMs: number; readonly maxAttempts: number } = CALL_BUDGET): AwsClients {
  const config = {
    ...(region ? { region } : {}),
    maxAttempts: budget.maxAttempts,
    // Without these, a hung connection waits for the function's own timeout and ends the run as an error.
    // Newer handlers only warn at the request timeout unless told to throw.
    requestHandler: { connectionTimeout: budget.connectionTimeoutMs, requestTimeout: budget.requestTimeoutMs, throwOnRequestTimeout: true },
  };
  return {
    autoScaling: new AutoScalingClient(config),
    elb: new ElasticLoadBalancingV2Client(config),
    ssm: new SSMClient(config),
  };
}

const TRANSIENT_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'ResourceContention',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Throttling, a 5xx or a network error: worth another poll, never a verdict. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  if (TRANSIENT_NAMES.has(e.name) || (e.code !== undefined && TRANSIENT_NAMES.has(e.code))) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status === 429 || status >= 500);
}

const errorText = (err: unknown): string =>
  err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : String(err).slice(0, 300);

/** Every page of DescribeAutoScalingGroups, by names or filters. */
export async function describeGroups(
  clients: AwsClients,
  query: { readonly names?: readonly string[]; readonly filters?: readonly Filter[] },
): Promise<AutoScalingGroup[]> {
  const groups: AutoScalingGroup[] = [];
  const pages = paginateDescribeAutoScalingGroups(
    { client: clients.autoScaling },
    { AutoScalingGroupNames: query.names ? [...query.names] : undefined, Filters: query.filters ? [...query.filters] : undefined },
  );
  for await (const page of pages) groups.push(...(page.AutoScalingGroups ?? []));
  return groups;
}

/**
 * Health of every target in one target group. DescribeTargetHealth has no pagination: one call
 * returns every registered target, so it is filtered to the instances asked about.
 */
export async function describeTargetHealth(
  clients: AwsClients,
  targetGroup: string,
  instanceIds: ReadonlySet<string>,
): Promise<TargetHealthObservation[]> {
  const out = await clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroup }));
  const result: TargetHealthObservation[] = [];
  for (const d of out.TargetHealthDescriptions ?? []) {
    const instanceId = d.Target?.Id;
    if (!instanceId || !instanceIds.has(instanceId)) continue;
    result.push({
      targetGroup,
      instanceId,
      state: d.TargetHealth?.State ?? 'unavailable',
      reasonCode: d.TargetHealth?.Reason,
      description: d.TargetHealth?.Description,
    });
  }
  return result;
}

/**
 * One poll of the new group, at a constant cost however large the fleet: one
 * DescribeAutoScalingGroups, one DescribeTargetHealth per target group and one
 * DescribeScalingActivities (the newest 100). A transient error becomes `transientError`.
 */
export async function observeGroup(clients: AwsClients, groupName: string, at: number): Promise<Observation> {
  const empty = { at, instances: [], targetGroups: [], targetHealth: [], activities: [] };
  try {
    const [group] = await describeGroups(clients, { names: [groupName] });
    if (!group) return { ...empty, groupNotFound: groupName };
    const instances = (group.Instances ?? []).map((i) => ({
      instanceId: i.InstanceId ?? '',
      lifecycleState: i.LifecycleState ?? 'Unknown',
      healthStatus: i.HealthStatus ?? 'Unknown',
    }));
    const targetGroups = group.TargetGroupARNs ?? [];
    const ids = new Set(instances.map((i) => i.instanceId));
    const [health, activities] = await Promise.all([
      Promise.all(targetGroups.map((tg) => describeTargetHealth(clients, tg, ids))),
      clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: groupName, MaxRecords: 100 })),
    ]);
    return {
      at,
      instances,
      targetGroups,
      targetHealth: health.flat(),
      desiredCapacity: group.DesiredCapacity,
      activities: (activities.Activities ?? []).map(
        (a): ScalingActivityObservation => ({
          activityId: a.ActivityId ?? '',
          statusCode: a.StatusCode ?? 'Unknown',
          statusMessage: a.StatusMessage,
          description: a.Description,
        }),
      ),
    };
  } catch (err) {
    if (isTransient(err)) return { ...empty, transientError: errorText(err) };
    throw err;
  }
}

/** The value of a String parameter, or undefined when it does not exist. */
export const readParameter = (clients: AwsClients, name: string): Promise<string | undefined> =>
  getParameterValue(clients.ssm, name);

/**
 * Overwrites a String parameter. Intelligent-Tiering keeps it Standard (free, 4 KB) and moves it
 * to Advanced (8 KB) only when a large fleet's progress needs the room.
 */
export async function writeParameter(clients: AwsClients, name: string, value: string): Promise<void> {
  await clients.ssm.send(
    new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true, Tier: 'Intelligent-Tiering' }),
  );
}

/** The environment's groups tagged with `release`. */
export const releaseGroups = (clients: AwsClients, stackName: string, release: string): Promise<AutoScalingGroup[]> =>
  describeGroups(clients, {
    filters: [
      { Name: `tag:${RELEASE_TAG}`, Values: [release] },
      { Name: 'tag:aws:cloudformation:stack-name', Values: [stackName] },
    ],
  });

/** The desired capacity of the environment's groups tagged with `release` (the largest; 0 when none). */
export async function liveDesiredCapacity(clients: AwsClients, stackName: string, release: string): Promise<number> {
  const groups = await releaseGroups(clients, stackName, release);
  return Math.max(0, ...groups.map((g) => g.DesiredCapacity ?? 0));
}

/** A group's scaling policies, scheduled actions and newest scaling activity. */
export interface GroupScaling {
  readonly policies: readonly ScalingPolicy[];
  readonly scheduledActions: readonly ScheduledUpdateGroupAction[];
  readonly lastActivity?: Activity;
}

/** DescribePolicies and DescribeScheduledActions (every page) and the newest DescribeScalingActivities record. */
export async function describeGroupScaling(clients: AwsClients, groupName: string): Promise<GroupScaling> {
  const collect = async <T>(pages: AsyncIterable<T>, pick: (page: T) => readonly unknown[] | undefined) => {
    const out: unknown[] = [];
    for await (const page of pages) out.push(...(pick(page) ?? []));
    return out;
  };
  const client = { client: clients.autoScaling };
  const [policies, scheduledActions, activities] = await Promise.all([
    collect(paginateDescribePolicies(client, { AutoScalingGroupName: groupName }), (p) => p.ScalingPolicies),
    collect(paginateDescribeScheduledActions(client, { AutoScalingGroupName: groupName }), (p) => p.ScheduledUpdateGroupActions),
    clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: groupName, MaxRecords: 1 })),
  ]);
  return {
    policies: policies as ScalingPolicy[],
    scheduledActions: scheduledActions as ScheduledUpdateGroupAction[],
    lastActivity: activities.Activities?.[0],
  };
}

/** The priorities of a listener's rules (the default rule has none), every page of DescribeRules. */
export async function listenerRulePriorities(clients: AwsClients, listenerArn: string): Promise<Set<number>> {
  const taken = new Set<number>();
  let marker: string | undefined;
  do {
    const page = await clients.elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }));
    for (const rule of page.Rules ?? []) {
      const priority = Number(rule.Priority);
      if (Number.isInteger(priority)) taken.add(priority);
    }
    marker = page.NextMarker;
  } while (marker);
  return taken;
}

/** SuspendProcesses or ResumeProcesses on one group. */
export async function setScalingProcesses(clients: AwsClients, groupName: string, processes: readonly string[], suspended: boolean): Promise<void> {
  const input = { AutoScalingGroupName: groupName, ScalingProcesses: [...processes] };
  await clients.autoScaling.send(suspended ? new SuspendProcessesCommand(input) : new ResumeProcessesCommand(input));
}

/** A listener whose default action forwards, and the target groups it forwards to. */
export interface ServingListener {
  readonly listenerArn: string;
  readonly port?: number;
  readonly targetGroupArns: readonly string[];
}

const forwardsTo = (actions: readonly Action[] | undefined): string[] =>
  (actions ?? [])
    .filter((a) => a.Type === 'forward')
    .flatMap((a) => (a.ForwardConfig?.TargetGroups?.length ? a.ForwardConfig.TargetGroups.map((t) => t.TargetGroupArn ?? '') : [a.TargetGroupArn ?? '']))
    .filter((arn) => arn !== '');

/**
 * The listeners that serve by default (a forward action) on the load balancers these target
 * groups belong to: one DescribeTargetGroups, then every page of DescribeListeners per load balancer.
 * The preview listener's default answer is a fixed 404, so it is never among them.
 */
export async function servingListeners(clients: AwsClients, targetGroupArns: readonly string[]): Promise<ServingListener[]> {
  if (targetGroupArns.length === 0) return [];
  const groups = await clients.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [...targetGroupArns] }));
  const loadBalancers = [...new Set((groups.TargetGroups ?? []).flatMap((g) => g.LoadBalancerArns ?? []))];
  const serving: ServingListener[] = [];
  for (const loadBalancerArn of loadBalancers) {
    let marker: string | undefined;
    do {
      const page = await clients.elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker }));
      for (const l of page.Listeners ?? []) {
        const forwarded = forwardsTo(l.DefaultActions);
        if (forwarded.length > 0) serving.push({ listenerArn: l.ListenerArn ?? '', port: l.Port, targetGroupArns: forwarded });
      }
      marker = page.NextMarker;
    } while (marker);
  }
  return serving;
}
