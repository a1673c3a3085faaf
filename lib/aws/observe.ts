// One poll's observation for the gate and for the bake, at a constant cost however large the
// fleet. A transient error becomes `transientError`; anything else is thrown.
import type { BakeObservation, Observation, ScalingActivityObservation, TrafficObservation } from '../observations';
import { describeGroups, scalingActivities } from './auto-scaling';
import type { AwsClients, BakeClients } from './clients';
import { alarmStates, type BakeTarget, type ComparedTargets, comparedFigures, targetGroupCounts } from './cloudwatch';
import { describeTargetHealth, hostCounts } from './elbv2';
import { errorText, isTransient } from './errors';

/**
 * One poll of the new group: one DescribeAutoScalingGroups, one DescribeTargetHealth per target
 * group and one DescribeScalingActivities (the newest 100).
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
      scalingActivities(clients, groupName, 100),
    ]);
    return {
      at,
      instances,
      targetGroups,
      targetHealth: health.flat(),
      desiredCapacity: group.DesiredCapacity,
      activities: activities.map(
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

/** One poll of the bake: the target group's counts, its hosts right now, and the alarms. */
export async function observeBake(clients: BakeClients, target: BakeTarget, since: number, at: number): Promise<BakeObservation> {
  try {
    const [counts, hosts, alarms] = await Promise.all([
      targetGroupCounts(clients, target, since, at),
      hostCounts(clients, target.targetGroupArn),
      alarmStates(clients, target.alarms),
    ]);
    return { at, ...counts, ...hosts, alarms };
  } catch (err) {
    if (!isTransient(err)) throw err;
    return { at, requests: 0, errors5xx: 0, healthyHosts: 0, unhealthyHosts: 0, alarms: [], transientError: errorText(err) };
  }
}

/**
 * One poll of a traffic step: both releases' figures over the step's minutes, the new release's
 * hosts right now, and the alarms.
 */
export async function observeTraffic(
  clients: BakeClients,
  targets: ComparedTargets & { readonly releaseTargetGroupArn: string; readonly alarms: readonly string[] },
  since: number,
  at: number,
): Promise<TrafficObservation> {
  try {
    const [figures, hosts, alarms] = await Promise.all([
      comparedFigures(clients, targets, since, at),
      hostCounts(clients, targets.releaseTargetGroupArn),
      alarmStates(clients, targets.alarms),
    ]);
    return { at, ...figures, ...hosts, alarms };
  } catch (err) {
    if (!isTransient(err)) throw err;
    const none = { requests: 0, errors5xx: 0 };
    return { at, release: none, live: none, healthyHosts: 0, unhealthyHosts: 0, alarms: [], transientError: errorText(err) };
  }
}
