// The ScalingHold custom resource's Lambda (onEvent only). From the cutover on, the outgoing
// release's group must keep its size: it still drains in-flight requests, and during the bake it is
// where a rollback sends every user back. Its own scaling policies would scale it in on the idle
// metrics that follow the cutover, and its scheduled actions would resize it.
//
// Create suspends the outgoing group's AlarmNotification and ScheduledActions processes (those not
// suspended already) and records which in the physical id. Delete, a rollback of this deploy or the
// cleanup after the next one, resumes exactly those, and succeeds when the group is gone. Launch,
// Terminate and ReplaceUnhealthy stay on: an unhealthy instance is still replaced.
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import { releaseGroups, setScalingProcesses } from '../aws/auto-scaling';
import { type AwsClients, createClients } from '../aws/clients';
import { readParameter } from '../aws/ssm';
import { requiredText } from '../resource-properties';

/** What a scaling policy and a scheduled action need to change a group's size. */
export const HELD_PROCESSES = ['AlarmNotification', 'ScheduledActions'] as const;

export interface HoldResourceProperties {
  /** `/greenlight/<app>/<env>/live-release`: names the outgoing release until the pointer moves. */
  readonly LiveReleaseParameter: string;
  readonly StackName: string;
  /**
   * The processes to hold, a subset of HELD_PROCESSES. A deploy that keeps the outgoing release as
   * its standby holds AlarmNotification only, so the standby's one-time scale-to-zero still runs.
   * @default HELD_PROCESSES
   */
  readonly Processes?: readonly string[];
}

/** The groups held and the processes this hold suspended on each. */
export interface Hold {
  readonly groups: ReadonlyArray<{ readonly name: string; readonly suspended: readonly string[] }>;
}

const PREFIX = 'greenlight-scaling-hold ';

export const holdId = (hold: Hold): string => `${PREFIX}${JSON.stringify(hold)}`;

/** The hold recorded in a physical id; none for an id this handler did not write. */
export function parseHoldId(physicalId: string | undefined): Hold | undefined {
  if (!physicalId?.startsWith(PREFIX)) return undefined;
  try {
    const parsed = JSON.parse(physicalId.slice(PREFIX.length)) as Hold;
    return Array.isArray(parsed.groups) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The held processes a group does not already have suspended: only those are this hold's to resume. */
export const toSuspend = (alreadySuspended: readonly string[], held: readonly string[] = HELD_PROCESSES): string[] =>
  held.filter((p) => !alreadySuspended.includes(p));

function processes(props: Record<string, unknown>): readonly string[] {
  const value = props.Processes;
  if (value === undefined) return HELD_PROCESSES;
  if (!Array.isArray(value) || value.length === 0 || !value.every((p) => (HELD_PROCESSES as readonly unknown[]).includes(p))) {
    throw new Error(`scaling hold property Processes: ${JSON.stringify(value)} must list some of ${HELD_PROCESSES.join(', ')}`);
  }
  return value as string[];
}

const isGroupGone = (err: unknown) => err instanceof Error && err.name === 'ValidationError' && /not found/i.test(err.message);

const text = (props: Record<string, unknown>, key: keyof HoldResourceProperties): string => requiredText('scaling hold', props, key);

export function holdHandler(deps: { readonly clients: () => AwsClients; readonly log: (line: string) => void }) {
  return async (event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse> => {
    const log = (fields: Record<string, unknown>) =>
      deps.log(JSON.stringify({ source: 'greenlight-scaling-hold', requestType: event.RequestType, ...fields }));
    if (event.RequestType === 'Update') {
      log({ action: 'none' });
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    if (event.RequestType === 'Delete') {
      const hold = parseHoldId(event.PhysicalResourceId);
      for (const group of hold?.groups ?? []) {
        if (group.suspended.length === 0) continue;
        try {
          await setScalingProcesses(deps.clients(), group.name, group.suspended, false);
          log({ group: group.name, resumed: group.suspended });
        } catch (err) {
          if (!isGroupGone(err)) throw err;
          log({ group: group.name, resumed: [], note: 'the group is gone' });
        }
      }
      return { PhysicalResourceId: event.PhysicalResourceId };
    }

    const props = event.ResourceProperties as Record<string, unknown>;
    const parameter = text(props, 'LiveReleaseParameter');
    const stackName = text(props, 'StackName');
    const toHold = processes(props);
    const clients = deps.clients();
    const outgoing = await readParameter(clients, parameter);
    const groups = outgoing ? await releaseGroups(clients, stackName, outgoing) : [];
    const held: Array<{ name: string; suspended: string[] }> = [];
    try {
      for (const g of groups) {
        const name = g.AutoScalingGroupName ?? '';
        const suspended = toSuspend((g.SuspendedProcesses ?? []).map((p) => p.ProcessName ?? ''), toHold);
        if (suspended.length > 0) await setScalingProcesses(clients, name, suspended, true);
        held.push({ name, suspended });
      }
    } catch (err) {
      // A failed Create leaves no physical id for Delete to read: undo here what was suspended.
      for (const group of held) await setScalingProcesses(clients, group.name, group.suspended, false).catch(() => undefined);
      throw err;
    }
    log({ outgoingRelease: outgoing ?? null, held });
    return { PhysicalResourceId: holdId({ groups: held }), Data: { OutgoingRelease: outgoing ?? '' } };
  };
}

let clients: AwsClients | undefined;
export const onEvent = holdHandler({ clients: () => (clients ??= createClients()), log: (line) => console.log(line) });
