// Auto Scaling: the environment's groups, their scaling policies and scheduled actions, the
// processes the scaling hold suspends, and the standby's size.
import {
  type Activity,
  type AutoScalingGroup,
  DeleteScheduledActionCommand,
  DescribeScalingActivitiesCommand,
  type Filter,
  paginateDescribeAutoScalingGroups,
  paginateDescribePolicies,
  paginateDescribeScheduledActions,
  ResumeProcessesCommand,
  type ScalingPolicy,
  type ScheduledUpdateGroupAction,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { RELEASE_TAG } from '../ssm-paths';
import type { AwsClients } from './clients';

export type { Activity, AutoScalingGroup, ScalingPolicy, ScheduledUpdateGroupAction };

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

/** Every group of the environment's stack. */
export const stackGroups = (clients: AwsClients, stackName: string): Promise<AutoScalingGroup[]> =>
  describeGroups(clients, { filters: [{ Name: 'tag:aws:cloudformation:stack-name', Values: [stackName] }] });

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

/** The newest DescribeScalingActivities records of a group. */
export const scalingActivities = async (clients: AwsClients, groupName: string, maxRecords: number): Promise<Activity[]> =>
  (await clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: groupName, MaxRecords: maxRecords }))).Activities ?? [];

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
    scalingActivities(clients, groupName, 1),
  ]);
  return {
    policies: policies as ScalingPolicy[],
    scheduledActions: scheduledActions as ScheduledUpdateGroupAction[],
    lastActivity: activities[0],
  };
}

/** SuspendProcesses or ResumeProcesses on one group. */
export async function setScalingProcesses(clients: AwsClients, groupName: string, processes: readonly string[], suspended: boolean): Promise<void> {
  const input = { AutoScalingGroupName: groupName, ScalingProcesses: [...processes] };
  await clients.autoScaling.send(suspended ? new SuspendProcessesCommand(input) : new ResumeProcessesCommand(input));
}

/** Sets a group's minimum and desired capacity. */
export async function resizeGroup(clients: AwsClients, groupName: string, min: number, desired: number): Promise<void> {
  await clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName, MinSize: min, DesiredCapacity: desired }));
}

/** Deletes one scheduled action of a group. */
export async function deleteScheduledAction(clients: AwsClients, groupName: string, actionName: string): Promise<void> {
  await clients.autoScaling.send(new DeleteScheduledActionCommand({ AutoScalingGroupName: groupName, ScheduledActionName: actionName }));
}
