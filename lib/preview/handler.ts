// The PreviewKey custom resource's Lambda (onEvent only). Create makes a random key for the
// release, keeps it as a SecureString, and sets the release's preview rule to require it beside
// the header naming the release. Delete removes the key; CloudFormation removes the rule. The key
// appears in no response, log line or template: only in the parameter and the rule's condition.
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import { type AwsClients, createClients } from '../aws/clients';
import { setRuleHeaderConditions } from '../aws/elbv2';
import { deleteParameter, writeSecureParameter } from '../aws/ssm';
import { requiredText } from '../resource-properties';
import { newPreviewKey, PREVIEW_KEY_HEADER } from './key';

export interface PreviewKeyResourceProperties {
  /** `/greenlight/<app>/<env>/preview/<release>` */
  readonly ParameterName: string;
  /** The release's preview rule. */
  readonly RuleArn: string;
  /** The preview header's name; its value is the release id. */
  readonly Header: string;
  readonly Release: string;
}

const text = (props: Record<string, unknown>, key: keyof PreviewKeyResourceProperties): string => requiredText('preview key', props, key);

export function previewKeyHandler(deps: { readonly clients: () => AwsClients; readonly newKey: () => string; readonly log: (line: string) => void }) {
  return async (event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse> => {
    const props = event.ResourceProperties as Record<string, unknown>;
    const parameter = text(props, 'ParameterName');
    const log = (fields: Record<string, unknown>) =>
      deps.log(JSON.stringify({ source: 'greenlight-preview-key', requestType: event.RequestType, parameter, ...fields }));
    const clients = deps.clients();
    if (event.RequestType === 'Delete') {
      await deleteParameter(clients.ssm, parameter);
      log({ action: 'deleted the key' });
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    // Create, or an Update (a replaced rule): a new key either way, so a rule never keeps an old one.
    const release = text(props, 'Release');
    const ruleArn = text(props, 'RuleArn');
    const key = deps.newKey();
    await writeSecureParameter(clients.ssm, parameter, key, `greenlight preview key of release ${release}: send it as ${PREVIEW_KEY_HEADER}`);
    await setRuleHeaderConditions(clients, ruleArn, { [text(props, 'Header')]: release, [PREVIEW_KEY_HEADER]: key });
    log({ action: 'keyed the preview rule', ruleArn, release });
    return { PhysicalResourceId: parameter };
  };
}

let clients: AwsClients | undefined;
export const onEvent = previewKeyHandler({ clients: () => (clients ??= createClients()), newKey: newPreviewKey, log: (line) => console.log(line) });
