// The CapacityProbe custom resource's Lambda (onEvent only): reads the live fleet's desired
// capacity and answers with the new fleet's size, and picks the release's preview rule priority
// from those free on the preview listener. Delete succeeds at once, touching nothing.
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import { previewPriority } from '../preview/priority';
import { liveDesiredCapacity } from '../aws/auto-scaling';
import { type AwsClients, createClients } from '../aws/clients';
import { listenerRulePriorities } from '../aws/elbv2';
import { readParameter } from '../aws/ssm';
import { sizeFleet } from './capacity';
import { requiredText, wholeNumber } from '../resource-properties';

export interface ProbeResourceProperties {
  /** `/greenlight/<app>/<env>/live-release` */
  readonly LiveReleaseParameter: string;
  /** The environment's stack, whose groups carry `aws:cloudformation:stack-name`. */
  readonly StackName: string;
  readonly MinCapacity: string | number;
  readonly DesiredCapacity: string | number;
  readonly MaxCapacity: string | number;
  /** The release being deployed. */
  readonly Release: string;
  /** The preview listener, whose free rule priorities the preview rule picks from. */
  readonly ListenerArn: string;
}

const whole = (props: Record<string, unknown>, key: keyof ProbeResourceProperties): number => wholeNumber('capacity probe', props, key, 1);

const text = (props: Record<string, unknown>, key: keyof ProbeResourceProperties): string => requiredText('capacity probe', props, key);

export function probeHandler(deps: { readonly clients: () => AwsClients; readonly log: (line: string) => void }) {
  return async (event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse> => {
    const log = (fields: Record<string, unknown>) =>
      deps.log(JSON.stringify({ source: 'greenlight-capacity-probe', requestType: event.RequestType, ...fields }));
    if (event.RequestType === 'Delete') {
      log({ action: 'none' });
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const props = event.ResourceProperties as Record<string, unknown>;
    const parameter = text(props, 'LiveReleaseParameter');
    const stackName = text(props, 'StackName');
    const release = text(props, 'Release');
    const listenerArn = text(props, 'ListenerArn');
    const range = { min: whole(props, 'MinCapacity'), desired: whole(props, 'DesiredCapacity'), max: whole(props, 'MaxCapacity') };

    const clients = deps.clients();
    const liveRelease = await readParameter(clients, parameter);
    const live = liveRelease ? await liveDesiredCapacity(clients, stackName, liveRelease) : undefined;
    const desired = sizeFleet(range, live || undefined);
    const taken = await listenerRulePriorities(clients, listenerArn);
    const priority = previewPriority(release, taken);
    log({ liveRelease: liveRelease ?? null, liveDesired: live ?? null, ...range, result: desired, previewPriority: priority, taken: taken.size });
    return {
      PhysicalResourceId: event.RequestType === 'Create' ? `${stackName}/capacity` : event.PhysicalResourceId,
      Data: { DesiredCapacity: String(desired), LiveRelease: liveRelease ?? '', PreviewPriority: String(priority) },
    };
  };
}

let clients: AwsClients | undefined;
export const onEvent = probeHandler({ clients: () => (clients ??= createClients()), log: (line) => console.log(line) });
