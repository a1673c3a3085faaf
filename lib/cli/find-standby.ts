// The environment's standby as its group stands now: the stack's group of a release other than the live one.
import { describeGroupScaling, stackGroups } from '../aws/auto-scaling';
import type { AwsClients } from '../aws/clients';
import { RELEASE_TAG } from '../ssm-paths';
import type { StandbyFleet } from './standby';

/** The stack's group of a release other than `live`, when there is one (the newest if several). */
export async function findStandby(clients: AwsClients, stackName: string, live: string | undefined): Promise<StandbyFleet | undefined> {
  const groups = await stackGroups(clients, stackName);
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
