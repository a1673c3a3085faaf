// The traffic step handler against moto over real HTTP (AWS_ENDPOINT_URL): a real load balancer
// whose serving listener forwards to the live release's target group, figures put into moto's
// CloudWatch for both groups, and the progress kept in moto's SSM between polls. The handler's
// clock is injected, so a step costs a few polls and no waiting.
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { CdkCustomResourceEvent, CdkCustomResourceIsCompleteEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBakeClients } from '../../lib/aws/clients';
import { readParameter } from '../../lib/aws/ssm';
import { targetGroupDimension, trafficHandlers } from '../../lib/traffic/handler';
import { parseTrafficRecord } from '../../lib/traffic/record';
import { putTargetGroupFigures } from '../helpers/alb-metrics';
import { createNetwork, ec2, MOTO, type Moto, useMoto, xmlValue } from '../helpers/moto';

const PARAM = '/greenlight/shop/production/traffic/r2';
/** The first step's moment: a little past the start of a minute in the past, as CloudWatch wants. */
const START = Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000 + 5_000;

if (!MOTO.available) console.warn(`skipping the traffic steps' moto tests: ${MOTO.skipReason}`);

describe.skipIf(!MOTO.available)('traffic steps against moto', () => {
  let moto!: Moto;
  let lbArn: string;
  let lbName: string;
  let listenerArn: string;
  let live: string;
  let release: string;
  let now = START;
  let requestId = 0;
  useMoto((started) => {
    moto = started;
  });
  const elb = () => new ElasticLoadBalancingV2Client({});

  beforeEach(async () => {
    await moto.reset();
    now = START;
    requestId += 1;
    const net = await createNetwork(moto);
    const lb = await elb().send(new CreateLoadBalancerCommand({ Name: 'shop-production', Subnets: [...net.subnetIds], Type: 'application' }));
    lbArn = lb.LoadBalancers?.[0]?.LoadBalancerArn ?? '';
    lbName = lbArn.slice(lbArn.indexOf('loadbalancer/') + 'loadbalancer/'.length);
    const group = async (name: string) => {
      const tg = await elb().send(new CreateTargetGroupCommand({ Name: name, Protocol: 'HTTP', Port: 80, VpcId: net.vpcId, TargetType: 'instance' }));
      return tg.TargetGroups?.[0]?.TargetGroupArn ?? '';
    };
    live = await group('shop-r1');
    release = await group('shop-r2');
    const instanceId = xmlValue(await ec2(moto, 'RunInstances', { ImageId: net.imageId, MinCount: '1', MaxCount: '1', SubnetId: net.subnetIds[0] }), 'instanceId');
    await elb().send(new RegisterTargetsCommand({ TargetGroupArn: release, Targets: [{ Id: instanceId, Port: 80 }] }));
    const listener = await elb().send(
      new CreateListenerCommand({ LoadBalancerArn: lbArn, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: live }] }),
    );
    listenerArn = listener.Listeners?.[0]?.ListenerArn ?? '';
  });

  const handlers = trafficHandlers({ clients: () => createBakeClients(), now: () => now, log: () => undefined });

  const properties = () => ({
    ServiceToken: 'x',
    Release: 'r2',
    LoadBalancerArn: lbArn,
    LoadBalancer: lbName,
    ListenerPort: '80',
    TargetGroupArn: release,
    TargetGroup: targetGroupDimension(release),
    Steps: ['10', '50'],
    StepDurationSeconds: '60',
    SettleSeconds: '0',
    MaxExtensionSeconds: '0',
    OnTooFewRequests: 'fail',
    ErrorMargin: '1',
    Confidence: '99',
    MinRequests: '100',
    LatencyRatio: '1.5',
    LatencyFloorMs: '100',
    MaxErrorRate: '50',
    MaxErrors: '0',
    Alarms: [],
    StickinessSeconds: '3600',
    ProgressParameter: PARAM,
  });

  const poll = () =>
    handlers.isComplete({
      RequestType: 'Create',
      RequestId: `req-${requestId}`,
      ResourceProperties: properties(),
      PhysicalResourceId: PARAM,
      LogicalResourceId: 'Traffic',
      ResourceType: 'Custom::TrafficSteps',
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-production/1',
      ServiceToken: 'x',
      ResponseURL: 'https://example.invalid/',
    } as unknown as CdkCustomResourceIsCompleteEvent);

  /** The listener's default forward: each group's ARN and weight, and the stickiness. */
  async function forward() {
    const [l] = (await elb().send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }))).Listeners ?? [];
    const [action] = l?.DefaultActions ?? [];
    const groups = action?.ForwardConfig?.TargetGroups?.length
      ? action.ForwardConfig.TargetGroups.map((t) => [t.TargetGroupArn, t.Weight])
      : [[action?.TargetGroupArn, 1]];
    return { groups, stickiness: action?.ForwardConfig?.TargetGroupStickinessConfig };
  }

  /** One minute's sums for a target group, `minute` minutes after the first step. */
  const putFigures = (targetGroupArn: string, minute: number, requests: number, errors5xx: number) =>
    putTargetGroupFigures(lbName, targetGroupDimension(targetGroupArn), new Date(START + minute * 60_000 + 10_000), requests, errors5xx);

  const stored = async () => parseTrafficRecord(await readParameter(createBakeClients(), PARAM));

  it('weights the serving listener step by step, judging each against the live release', async () => {
    // First poll: the first step's weights, sticky, and nothing judged yet.
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(await forward()).toEqual({ groups: [[live, 90], [release, 10]], stickiness: { Enabled: true, DurationSeconds: 3600 } });
    expect(await stored()).toMatchObject({ listenerArn, liveTargetGroupArn: live, progress: { step: 0, weight: 10, verdict: 'wait' } });

    await putFigures(release, 0, 150, 0);
    await putFigures(live, 0, 1350, 2);
    now = START + 61_000;
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect((await forward()).groups).toEqual([[live, 50], [release, 50]]);
    expect((await stored())?.progress).toMatchObject({ step: 1, weight: 50, passed: [expect.stringMatching(/^traffic step 1 \(10%\): passed after 61s: 5xx 0% vs live 0.1%/)] });

    await putFigures(release, 1, 700, 1);
    await putFigures(live, 1, 700, 1);
    now = START + 125_000;
    const done = await poll();
    expect(done.IsComplete).toBe(true);
    expect(String((done as { Data?: { Message?: string } }).Data?.Message)).toBe(
      'traffic step 2 (50%): passed after 64s: 5xx 0.1% vs live 0.1% (p = 1, margin 1 point); ' +
        // moto computes no percentiles: the p99 comparison is covered by the table tests and the rehearsal.
        'p99 n/a vs live n/a (limit 1.5× and +100 ms); 1 of 700 requests, live 1 of 700',
    );
    // The cutover, CloudFormation's own listener update, gives the release the rest.
    expect((await forward()).groups).toEqual([[live, 50], [release, 50]]);
  });

  it('puts every request back on the live release before it fails, with both shares in the message', async () => {
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    await putFigures(release, 0, 200, 40);
    await putFigures(live, 0, 1800, 2);
    now = START + 40_000;
    await expect(poll()).rejects.toThrow('traffic step 1 (10%): 5xx 20% vs live 0.1% (p < 0.001, margin 1 point) over 40s: 40 of 200 requests, live 2 of 1800');
    expect((await forward()).groups).toEqual([[live, 1]]);
    expect((await stored())?.progress.verdict).toBe('fail');
  });

  it("on delete, undoes the weights of a run cut short, and leaves a listener it no longer weights alone", async () => {
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    const del = {
      RequestType: 'Delete',
      RequestId: 'req-delete',
      ResourceProperties: properties(),
      PhysicalResourceId: PARAM,
      LogicalResourceId: 'Traffic',
      ResourceType: 'Custom::TrafficSteps',
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-production/1',
      ServiceToken: 'x',
      ResponseURL: 'https://example.invalid/',
    } as unknown as CdkCustomResourceEvent;
    await handlers.onEvent(del);
    expect((await forward()).groups).toEqual([[live, 1]]);

    // After a successful deploy the listener forwards to the release alone: a later delete keeps it.
    const { setListenerForward } = await import('../../lib/aws/elbv2');
    await setListenerForward(createBakeClients(), listenerArn, [{ arn: release, weight: 1 }]);
    await handlers.onEvent(del);
    expect((await forward()).groups).toEqual([[release, 1]]);
  });

  it('passes at once with no serving listener yet: a first deploy has no live release', async () => {
    const first = await trafficHandlers({ clients: () => createBakeClients(), now: () => now, log: () => undefined }).isComplete({
      RequestType: 'Create',
      RequestId: 'req-first',
      ResourceProperties: { ...properties(), ListenerPort: '443' },
    } as unknown as CdkCustomResourceIsCompleteEvent);
    expect(first).toMatchObject({ IsComplete: true, Data: { Verdict: 'pass' } });
    expect((await forward()).groups).toEqual([[live, 1]]);
  });
});
