// The PreviewKey resource's Lambda with SSM and ELB mocked: a new random key per release, kept as
// a SecureString and written into the release's rule beside the release header, and in no
// response or log line; Delete removes the key.
import { ElasticLoadBalancingV2Client, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import { newPreviewKey, PREVIEW_KEY_PATTERN } from '../../lib/preview/key';
import { previewKeyHandler } from '../../lib/preview/handler';

const ssm = mockClient(SSMClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const PARAMETER = '/greenlight/shop/staging/preview/r2';
const RULE = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener-rule/app/shop/0123456789abcdef/2222222222222222/3333333333333333';

let lines: string[] = [];
let keys: string[] = [];
const onEvent = previewKeyHandler({
  clients: () => createClients('eu-west-1'),
  newKey: () => {
    keys.push(newPreviewKey());
    return keys.at(-1) as string;
  },
  log: (line) => lines.push(line),
});

const event = (type: string, overrides: Record<string, unknown> = {}): CdkCustomResourceEvent =>
  ({
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:preview-key',
    ResponseURL: 'https://example.invalid/signed',
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/shop-staging/1',
    RequestId: 'req-1',
    LogicalResourceId: 'PreviewKey',
    ResourceType: 'Custom::PreviewKey',
    PhysicalResourceId: PARAMETER,
    ResourceProperties: { ServiceToken: 'x', ParameterName: PARAMETER, RuleArn: RULE, Header: 'X-Greenlight-Release', Release: 'r2', ...overrides },
  }) as CdkCustomResourceEvent;

beforeEach(() => {
  ssm.reset();
  elb.reset();
  ssm.on(PutParameterCommand).resolves({});
  ssm.on(DeleteParameterCommand).resolves({});
  elb.on(ModifyRuleCommand).resolves({});
  lines = [];
  keys = [];
});

describe('preview key handler', () => {
  it('keeps a new random key as a SecureString and requires it in the rule, beside the release header', async () => {
    const out = await onEvent(event('Create'));
    expect(out).toEqual({ PhysicalResourceId: PARAMETER });
    const [key] = keys;
    expect(key).toMatch(PREVIEW_KEY_PATTERN);
    expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ Name: PARAMETER, Value: key, Type: 'SecureString', Overwrite: true }),
    ]);
    expect(elb.commandCalls(ModifyRuleCommand).map((c) => c.args[0].input)).toEqual([
      {
        RuleArn: RULE,
        Conditions: [
          { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Greenlight-Release', Values: ['r2'] } },
          { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Greenlight-Preview-Key', Values: [key] } },
        ],
      },
    ]);
    // The key is written before the rule requires it, so the smoke checks can always read it.
    expect(ssm.commandCalls(PutParameterCommand)[0].calledBefore(elb.commandCalls(ModifyRuleCommand)[0])).toBe(true);
    expect(JSON.stringify(out)).not.toContain(key);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(key);
    expect(JSON.parse(lines[0])).toMatchObject({ source: 'greenlight-preview-key', action: 'keyed the preview rule', release: 'r2' });
  });

  it('gives every release, and every replacement of a rule, a key of its own', async () => {
    await onEvent(event('Create'));
    await onEvent(event('Update'));
    await onEvent(event('Create', { Release: 'r3', ParameterName: '/greenlight/shop/staging/preview/r3' }));
    expect(new Set(keys).size).toBe(3);
  });

  it('deletes the key on Delete, and a key already gone is fine; the rule is left to CloudFormation', async () => {
    await onEvent(event('Delete'));
    ssm.on(DeleteParameterCommand).rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: {} }));
    expect(await onEvent(event('Delete'))).toEqual({ PhysicalResourceId: PARAMETER });
    expect(ssm.commandCalls(DeleteParameterCommand).map((c) => c.args[0].input.Name)).toEqual([PARAMETER, PARAMETER]);
    expect(elb.calls()).toHaveLength(0);
  });

  it('leaves the rule unmatched when the key cannot be kept', async () => {
    ssm.on(PutParameterCommand).rejects(Object.assign(new Error('User is not authorized to perform: ssm:PutParameter'), { name: 'AccessDeniedException' }));
    await expect(onEvent(event('Create'))).rejects.toThrow('ssm:PutParameter');
    expect(elb.calls()).toHaveLength(0);
  });

  it('a bad property names itself and its value', async () => {
    await expect(onEvent(event('Create', { RuleArn: '' }))).rejects.toThrow('preview key property RuleArn: "" must be a non-empty string');
  });
});
