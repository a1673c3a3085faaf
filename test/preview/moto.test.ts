// The PreviewKey handler against moto over real HTTP: a preview rule created matching no request
// (as the template creates it) gets the release header and a fresh key as its conditions, the key
// is a SecureString that status --preview-key reads back, and Delete removes it.
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import { readPreviewKeys } from '../../lib/cli/status';
import { previewKeyHandler } from '../../lib/preview/handler';
import { newPreviewKey, NO_SOURCE, PREVIEW_KEY_PATTERN } from '../../lib/preview/key';
import { createNetwork, MOTO, type Moto, useMoto } from '../helpers/moto';

if (!MOTO.available) console.warn(`skipping the preview key moto test: ${MOTO.skipReason}`);

const PARAMETER = '/greenlight/shop/staging/preview/r2';

describe.skipIf(!MOTO.available)('the preview key through moto', () => {
  let moto!: Moto;
  useMoto((started) => {
    moto = started;
  });

  it("keys a rule created matching nothing, keeps the key as a SecureString status reads back, and deletes it", async () => {
    const net = await createNetwork(moto);
    const elb = new ElasticLoadBalancingV2Client({});
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'shop', Subnets: [...net.subnetIds], Type: 'application' }))).LoadBalancers?.[0];
    const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'r2', Protocol: 'HTTP', Port: 80, VpcId: net.vpcId, TargetType: 'instance' }))).TargetGroups?.[0];
    const listener = (
      await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb?.LoadBalancerArn,
          Protocol: 'HTTP',
          Port: 8080,
          DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'not found' } }],
        }),
      )
    ).Listeners?.[0];
    const rule = (
      await elb.send(
        new CreateRuleCommand({
          ListenerArn: listener?.ListenerArn,
          Priority: 10001,
          Conditions: [
            { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Greenlight-Release', Values: ['r2'] } },
            { Field: 'source-ip', SourceIpConfig: { Values: [NO_SOURCE] } },
          ],
          Actions: [{ Type: 'forward', TargetGroupArn: tg?.TargetGroupArn }],
        }),
      )
    ).Rules?.[0];
    const lines: string[] = [];
    const onEvent = previewKeyHandler({ clients: () => createClients(), newKey: newPreviewKey, log: (l) => lines.push(l) });
    const event = (type: string) =>
      ({
        RequestType: type,
        ServiceToken: 'x',
        ResponseURL: 'https://example.invalid/',
        StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-staging/1',
        RequestId: 'req-1',
        LogicalResourceId: 'PreviewKey',
        ResourceType: 'Custom::PreviewKey',
        PhysicalResourceId: PARAMETER,
        ResourceProperties: { ServiceToken: 'x', ParameterName: PARAMETER, RuleArn: rule?.RuleArn, Header: 'X-Greenlight-Release', Release: 'r2' },
      }) as CdkCustomResourceEvent;

    expect(await onEvent(event('Create'))).toEqual({ PhysicalResourceId: PARAMETER });
    const ssm = new SSMClient({});
    const stored = (await ssm.send(new GetParameterCommand({ Name: PARAMETER, WithDecryption: true }))).Parameter;
    expect(stored?.Type).toBe('SecureString');
    const key = stored?.Value ?? '';
    expect(key).toMatch(PREVIEW_KEY_PATTERN);
    const conditions = (await elb.send(new DescribeRulesCommand({ RuleArns: [rule?.RuleArn ?? ''] }))).Rules?.[0]?.Conditions;
    expect(conditions?.map((c) => [c.Field, c.HttpHeaderConfig?.HttpHeaderName, c.HttpHeaderConfig?.Values])).toEqual([
      ['http-header', 'X-Greenlight-Release', ['r2']],
      ['http-header', 'X-Greenlight-Preview-Key', [key]],
    ]);
    expect(lines.join('\n')).not.toContain(key);
    const env = { app: 'shop', envName: 'staging', stackName: 'shop-staging' } as Parameters<typeof readPreviewKeys>[1];
    expect(await readPreviewKeys(createClients(), env, ['r2', 'r9'])).toEqual([
      { release: 'r2', key },
      { release: 'r9', unreadable: 'no key at /greenlight/shop/staging/preview/r9' },
    ]);

    await onEvent(event('Delete'));
    expect(await readPreviewKeys(createClients(), env, ['r2'])).toEqual([{ release: 'r2', unreadable: `no key at ${PARAMETER}` }]);
  });
});
