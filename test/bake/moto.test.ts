// The bake handler against moto over real HTTP (AWS_ENDPOINT_URL): GetMetricData on figures put
// into moto's CloudWatch, DescribeTargetHealth on a real target group, DescribeAlarms, and the
// progress kept in moto's SSM between polls. The handler's clock is injected, so a 60-second bake
// costs two polls and no waiting.
import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { CdkCustomResourceIsCompleteEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBakeClients } from '../../lib/aws/clients';
import { bakeHandlers } from '../../lib/bake/handler';
import { parseBakeRecord } from '../../lib/bake/record';
import { readParameter } from '../../lib/aws/ssm';
import { putTargetGroupFigures } from '../helpers/alb-metrics';
import { createNetwork, ec2, MOTO, type Moto, useMoto, xmlValue } from '../helpers/moto';

const LOAD_BALANCER = 'app/shop-staging/50dc6c495c0c9188';
const PARAM = '/greenlight/shop/staging/bake/r2';
/** The cutover's moment: the start of a minute a little in the past, as CloudWatch wants. */
const CUTOVER = Math.floor((Date.now() - 30 * 60_000) / 60_000) * 60_000 + 5_000;

if (!MOTO.available) console.warn(`skipping the bake's moto tests: ${MOTO.skipReason}`);

describe.skipIf(!MOTO.available)('the bake against moto', () => {
  let moto!: Moto;
  let targetGroupArn: string;
  let targetGroup: string;
  let now = CUTOVER;
  let requestId = 0;
  useMoto((started) => {
    moto = started;
  });

  beforeEach(async () => {
    await moto.reset();
    now = CUTOVER;
    requestId += 1;
    // The release's target group with one registered instance (moto reports it healthy).
    const net = await createNetwork(moto);
    const instanceId = xmlValue(
      await ec2(moto, 'RunInstances', { ImageId: net.imageId, MinCount: '1', MaxCount: '1', SubnetId: net.subnetIds[0] }),
      'instanceId',
    );
    const elb = new ElasticLoadBalancingV2Client({});
    const tg = await elb.send(new CreateTargetGroupCommand({ Name: 'shop-r2', Protocol: 'HTTP', Port: 80, VpcId: net.vpcId, TargetType: 'instance' }));
    targetGroupArn = tg.TargetGroups?.[0]?.TargetGroupArn ?? '';
    targetGroup = targetGroupArn.slice(targetGroupArn.indexOf('targetgroup/'));
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: instanceId, Port: 80 }] }));
  });

  const handlers = bakeHandlers({ clients: () => createBakeClients(), now: () => now, log: () => undefined });

  const poll = (alarms: string[] = []) =>
    handlers.isComplete({
      RequestType: 'Create',
      RequestId: `req-${requestId}`,
      ResourceProperties: {
        ServiceToken: 'x',
        Release: 'r2',
        LoadBalancer: LOAD_BALANCER,
        TargetGroup: targetGroup,
        TargetGroupArn: targetGroupArn,
        DurationSeconds: '60',
        SettleSeconds: '0',
        MaxErrorRate: '1',
        MaxErrors: '0',
        Alarms: alarms,
        ProgressParameter: PARAM,
      },
      PhysicalResourceId: PARAM,
      LogicalResourceId: 'Bake',
      ResourceType: 'Custom::BakeWindow',
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/shop-staging/1',
      ServiceToken: 'x',
      ResponseURL: 'https://example.invalid/',
    } as unknown as CdkCustomResourceIsCompleteEvent);

  /** The load balancer's per-minute sums for the release's target group, `minutes` after the cutover. */
  const putFigures = (minute: number, requests: number, errors5xx: number, dimensions = { lb: LOAD_BALANCER, tg: targetGroup }) =>
    putTargetGroupFigures(dimensions.lb, dimensions.tg, new Date(CUTOVER - 5_000 + minute * 60_000 + 10_000), requests, errors5xx);

  const stored = async () => parseBakeRecord(await readParameter(createBakeClients(), PARAM));

  it('passes a clean window, with the figures CloudWatch summed for this target group alone', async () => {
    await putFigures(0, 400, 1);
    await putFigures(1, 600, 2);
    // Another target group's errors on the same load balancer are not this release's.
    await putFigures(0, 100, 100, { lb: LOAD_BALANCER, tg: 'targetgroup/shop-r1/0123456789abcdef' });

    // The first poll, at the cutover, asks for the cutover's minute only.
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect((await stored())?.progress).toMatchObject({ verdict: 'wait', requests: 400, errors5xx: 1, healthyHosts: 1, unhealthyHosts: 0 });

    now = CUTOVER + 61_000;
    await expect(poll()).resolves.toEqual({
      IsComplete: true,
      Data: { Verdict: 'pass', Message: 'bake: passed after 61s: 1000 requests, 3 5xx (0.3%, limit 1%), 1 healthy and 0 unhealthy hosts' },
    });
    expect((await stored())?.progress.verdict).toBe('pass');
  });

  it('fails when the 5xx share rises above the limit, naming the share and the counts', async () => {
    await putFigures(0, 500, 0);
    await expect(poll()).resolves.toEqual({ IsComplete: false });

    await putFigures(1, 500, 74);
    now = CUTOVER + 70_000;
    await expect(poll()).rejects.toThrow("bake: 7.4% 5xx on the release's target group over 70s (limit 1%): 74 of 1000 requests");
    const record = await stored();
    expect(record?.progress).toMatchObject({ verdict: 'fail', requests: 1000, errors5xx: 74 });
  });

  it('fails when a named alarm is in ALARM, and waits while it is OK', async () => {
    const cw = new CloudWatchClient({});
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'shop-p99-latency',
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'TargetResponseTime',
        Dimensions: [{ Name: 'LoadBalancer', Value: LOAD_BALANCER }],
        Statistic: 'Average',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    await cw.send(new SetAlarmStateCommand({ AlarmName: 'shop-p99-latency', StateValue: 'OK', StateReason: 'fine' }));
    await putFigures(0, 100, 0);
    await expect(poll(['shop-p99-latency'])).resolves.toEqual({ IsComplete: false });

    await cw.send(new SetAlarmStateCommand({ AlarmName: 'shop-p99-latency', StateValue: 'ALARM', StateReason: 'p99 above 1 s' }));
    now = CUTOVER + 30_000;
    await expect(poll(['shop-p99-latency'])).rejects.toThrow('bake: alarm "shop-p99-latency" is in ALARM after 30s: p99 above 1 s');
  });

  it('fails at once on an alarm name CloudWatch does not know', async () => {
    await expect(poll(['no-such-alarm'])).rejects.toThrow('bake: alarm "no-such-alarm" does not exist');
  });
});
