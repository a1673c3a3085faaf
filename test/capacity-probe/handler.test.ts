import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeRulesCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import { sizeFleet } from '../../lib/capacity-probe/capacity';
import { probeHandler } from '../../lib/capacity-probe/handler';
import { preferredPriority } from '../../lib/preview/priority';

const asg = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/shop/abc/def';
let lines: string[] = [];
const onEvent = probeHandler({ clients: () => createClients('eu-west-1'), log: (l) => lines.push(l) });

const event = (overrides: Record<string, string> = {}): CdkCustomResourceEvent => ({
  RequestType: 'Create',
  ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:probe',
  ResponseURL: 'https://example.invalid/signed?X-Amz-Signature=secret',
  StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/shop-staging/1',
  RequestId: 'r1',
  LogicalResourceId: 'Capacity',
  ResourceType: 'Custom::CapacityProbe',
  ResourceProperties: {
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:probe',
    LiveReleaseParameter: '/greenlight/shop/staging/live-release',
    StackName: 'shop-staging',
    MinCapacity: '2',
    DesiredCapacity: '3',
    MaxCapacity: '12',
    Release: 'r2',
    ListenerArn: LISTENER,
    ...overrides,
  },
});

const liveGroup = (name: string, desired: number) => ({
  AutoScalingGroupName: name,
  MinSize: 2,
  MaxSize: 12,
  DesiredCapacity: desired,
  DefaultCooldown: 300,
  AvailabilityZones: ['eu-west-1a'],
  HealthCheckType: 'ELB',
  CreatedTime: new Date(0),
});

beforeEach(() => {
  asg.reset();
  ssm.reset();
  elb.reset();
  elb.on(DescribeRulesCommand).resolves({ Rules: [{ Priority: 'default', IsDefault: true }] });
  lines = [];
});

describe('sizeFleet', () => {
  it.each([
    [{ min: 2, desired: 3, max: 12 }, undefined, 3],
    [{ min: 2, desired: 3, max: 12 }, 8, 8],
    [{ min: 2, desired: 3, max: 12 }, 1, 3],
    [{ min: 2, desired: 3, max: 12 }, 40, 12],
    [{ min: 4, desired: 4, max: 4 }, 9, 4],
  ])('%j with live %s -> %i', (range, live, expected) => {
    expect(sizeFleet(range, live)).toBe(expected);
  });
});

describe('capacity probe', () => {
  it('the first deploy (no live release) uses the configured desired capacity', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    const out = await onEvent(event());
    expect(out).toEqual({ PhysicalResourceId: 'shop-staging/capacity', Data: { DesiredCapacity: '3', LiveRelease: '', PreviewPriority: String(preferredPriority('r2')) } });
    expect(asg.calls()).toHaveLength(0);
  });

  it('a scaled-out live fleet keeps its size, found across DescribeAutoScalingGroups pages', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '2026.11.21-aaaaaaa' } });
    const inputs: object[] = [];
    const pages = [{ AutoScalingGroups: [], NextToken: 't2' }, { AutoScalingGroups: [liveGroup('shop-staging-Fleet-old', 7)] }];
    asg.on(DescribeAutoScalingGroupsCommand).callsFake((input: object) => {
      inputs.push(JSON.parse(JSON.stringify(input)));
      return pages[inputs.length - 1];
    });
    const out = await onEvent(event());
    expect(out.Data).toMatchObject({ DesiredCapacity: '7', LiveRelease: '2026.11.21-aaaaaaa' });
    expect(inputs).toEqual([
      {
        Filters: [
          { Name: 'tag:greenlight:release', Values: ['2026.11.21-aaaaaaa'] },
          { Name: 'tag:aws:cloudformation:stack-name', Values: ['shop-staging'] },
        ],
      },
      {
        Filters: [
          { Name: 'tag:greenlight:release', Values: ['2026.11.21-aaaaaaa'] },
          { Name: 'tag:aws:cloudformation:stack-name', Values: ['shop-staging'] },
        ],
        NextToken: 't2',
      },
    ]);
    expect(JSON.parse(lines[0])).toMatchObject({ liveDesired: 7, result: 7 });
    expect(lines.join('\n')).not.toContain('X-Amz-Signature');
  });

  it('a live fleet above max is clamped to max', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'r0' } });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [liveGroup('g', 20)] });
    expect((await onEvent(event())).Data?.DesiredCapacity).toBe('12');
  });

  it('a live release whose group is gone falls back to the configured desired', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'r0' } });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    expect((await onEvent(event())).Data?.DesiredCapacity).toBe('3');
  });

  it("picks a preview priority past the outgoing release's rule, read across DescribeRules pages", async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'r1' } });
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    const wanted = preferredPriority('r2');
    elb
      .on(DescribeRulesCommand, { ListenerArn: LISTENER, Marker: undefined })
      .resolves({ Rules: [{ Priority: String(wanted), IsDefault: false }], NextMarker: 'm2' })
      .on(DescribeRulesCommand, { ListenerArn: LISTENER, Marker: 'm2' })
      .resolves({ Rules: [{ Priority: String(wanted + 1), IsDefault: false }, { Priority: 'default', IsDefault: true }] });
    const out = await onEvent(event());
    expect(out.Data?.PreviewPriority).toBe(String(wanted + 2));
    expect(elb.commandCalls(DescribeRulesCommand)).toHaveLength(2);
  });


  it('Delete is a no-op', async () => {
    const del = { ...event(), RequestType: 'Delete', PhysicalResourceId: 'shop-staging/capacity' } as CdkCustomResourceEvent;
    expect(await onEvent(del)).toEqual({ PhysicalResourceId: 'shop-staging/capacity' });
    expect(ssm.calls()).toHaveLength(0);
  });

  it('a bad property names itself and its value', async () => {
    await expect(onEvent(event({ MaxCapacity: 'lots' }))).rejects.toThrow('capacity probe property MaxCapacity: "lots" must be a whole number of at least 1');
  });
});
