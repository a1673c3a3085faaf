// The AWS calls about the standby: find the environment's non-live group and its scale-to-zero,
// and scale it back up for a rollback.
import { DeleteScheduledActionCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { type AwsClients, describeGroups, describeGroupScaling } from '../health-gate/aws';
import { RELEASE_TAG } from '../ssm-paths';
import type { StandbyFleet } from './standby';

/** The stack's group of a release other than `live`, when there is one (the newest if several). */
export async function findStandby(clients: AwsClients, stackName: string, live: string | undefined): Promise<StandbyFleet | undefined> {
  const groups = await describeGroups(clients, { filters: [{ Name: 'tag:aws:cloudformation:stack-name', Values: [stackName] }] });
  const others = groups
    .filter((g) => (g.Tags?.find((t) => t.Key === RELEASE_TAG)?.Value ?? live) !== live)
    .sort((a, b) => (b.CreatedTime?.getTime() ?? 0) - (a.CreatedTime?.getTime() ?? 0));
  const group = others[0];
  if (!group?.AutoScalingGroupName) return undefined;
  const { scheduledActions } = await describeGroupScaling(clients, group.AutoScalingGroupName);
  const toZero = scheduledActions.find((a) => a.DesiredCapacity === 0 && a.Recurrence === undefined);
  return {
    release: group.Tags?.find((t) => t.Key === RELEASE_TAG)?.Value ?? '',
    groupName: group.AutoScalingGroupName,
    min: group.MinSize ?? 0,
    desired: group.DesiredCapacity ?? 0,
    inService: (group.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
    scalesToZeroAt: toZero?.StartTime,
    scaleToZeroAction: toZero?.ScheduledActionName,
  };
}

/** Raises the standby to the size it must serve at; the rollback's gate then waits for its instances. */
export async function scaleUpStandby(clients: AwsClients, groupName: string, min: number, desired: number): Promise<void> {
  await clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: groupName, MinSize: min, DesiredCapacity: desired }));
}

/**
 * Takes the scale-to-zero off a standby that is about to serve again. The rollback's template drops
 * it too, but CloudFormation deletes it only in its cleanup, after the cutover: were the window to
 * end in between, the fleet that just went live would scale to zero.
 */
export async function cancelScaleToZero(clients: AwsClients, groupName: string, actionName: string): Promise<void> {
  await clients.autoScaling.send(new DeleteScheduledActionCommand({ AutoScalingGroupName: groupName, ScheduledActionName: actionName }));
}
