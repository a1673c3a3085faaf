// The bake handler's polls with the SDK mocked underneath: CloudWatch's figures, the target
// group's health, the named alarms, and the progress kept in SSM between polls.
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CdkCustomResourceEvent, CdkCustomResourceIsCompleteEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBakeClients } from '../../lib/aws/clients';
import { bakeHandlers } from '../../lib/bake/handler';
import { parseBakeRecord } from '../../lib/bake/record';

const cw = mockClient(CloudWatchClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);

const TG_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/shop-r2/0123456789abcdef';
const PARAM = '/greenlight/shop/staging/bake/r2';
const START = Date.UTC(2026, 10, 25, 9, 0, 30);

let now = START;
let lines: string[] = [];
let storedValue: string | undefined;
const handlers = bakeHandlers({ clients: () => createBakeClients('eu-west-1'), now: () => now, log: (l) => lines.push(l) });

const props = (overrides: Record<string, unknown> = {}) => ({
  ServiceToken: 'x',
  Release: 'r2',
  LoadBalancer: 'app/shop/abc',
  TargetGroup: 'targetgroup/shop-r2/0123456789abcdef',
  TargetGroupArn: TG_ARN,
  DurationSeconds: '120',
  SettleSeconds: '0',
  MaxErrorRate: '1',
  MaxErrors: '0',
  Alarms: [],
  ProgressParameter: PARAM,
  ...overrides,
});

const poll = (overrides: Record<string, unknown> = {}, type = 'Create', requestId = 'req-1') =>
  handlers.isComplete({
    RequestType: type,
    RequestId: requestId,
    ResourceProperties: props(overrides),
    PhysicalResourceId: PARAM,
    LogicalResourceId: 'Bake',
    ResourceType: 'Custom::BakeWindow',
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/shop-staging/1',
    ServiceToken: 'x',
    ResponseURL: 'https://example.invalid/signed?X-Amz-Signature=secret',
  } as unknown as CdkCustomResourceIsCompleteEvent);

/** CloudWatch answers these sums, split across two pages to exercise pagination. */
const figures = (requests: number, errors: number) => {
  cw.on(GetMetricDataCommand, { NextToken: undefined }).resolves({
    MetricDataResults: [
      { Id: 'requests', Values: [requests - 10] },
      { Id: 'errors5xx', Values: errors > 0 ? [errors] : [] },
    ],
    NextToken: 'p2',
  });
  cw.on(GetMetricDataCommand, { NextToken: 'p2' }).resolves({ MetricDataResults: [{ Id: 'requests', Values: [10] }] });
};
const hosts = (healthy: number, unhealthy: number) =>
  elb.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_ARN }).resolves({
    TargetHealthDescriptions: [
      ...Array.from({ length: healthy }, (_, i) => ({ Target: { Id: `i-h${i}` }, TargetHealth: { State: 'healthy' as const } })),
      ...Array.from({ length: unhealthy }, (_, i) => ({ Target: { Id: `i-u${i}` }, TargetHealth: { State: 'unhealthy' as const } })),
    ],
  });

beforeEach(() => {
  cw.reset();
  elb.reset();
  ssm.reset();
  now = START;
  lines = [];
  storedValue = undefined;
  ssm.on(GetParameterCommand, { Name: PARAM }).callsFake(() => {
    if (storedValue === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    return { Parameter: { Name: PARAM, Value: storedValue } };
  });
  ssm.on(PutParameterCommand).callsFake((input: { Value: string }) => {
    storedValue = input.Value;
    return {};
  });
  hosts(2, 0);
});

describe('bake handler', () => {
  it('passes after the duration on clean figures, reading metrics from the cutover minute', async () => {
    figures(0, 0);
    expect(await poll()).toEqual({ IsComplete: false });
    now += 60_000;
    figures(600, 0);
    expect(await poll()).toEqual({ IsComplete: false });
    now += 60_000;
    figures(1200, 0);
    expect(await poll()).toEqual({
      IsComplete: true,
      Data: { Verdict: 'pass', Message: 'bake: passed after 120s: 1200 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts' },
    });
    const input = cw.commandCalls(GetMetricDataCommand).at(-1)?.args[0].input;
    expect(input?.StartTime).toEqual(new Date(Date.UTC(2026, 10, 25, 9, 0, 0)));
    expect(input?.MetricDataQueries?.map((q) => [q.Id, q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat, q.MetricStat?.Period])).toEqual([
      ['requests', 'RequestCount', 'Sum', 60],
      ['errors5xx', 'HTTPCode_Target_5XX_Count', 'Sum', 60],
    ]);
    expect(input?.MetricDataQueries?.[0].MetricStat?.Metric?.Dimensions).toEqual([
      { Name: 'LoadBalancer', Value: 'app/shop/abc' },
      { Name: 'TargetGroup', Value: 'targetgroup/shop-r2/0123456789abcdef' },
    ]);
    expect(parseBakeRecord(storedValue)?.progress).toMatchObject({ verdict: 'pass', requests: 1200, polls: 3, startedAt: START });
  });

  it("fails on a 5xx share above the limit, which rolls the listener back", async () => {
    figures(0, 0);
    await poll();
    now += 120_000;
    figures(500, 37);
    await expect(poll()).rejects.toThrow("bake: 7.4% 5xx on the release's target group over 120s (limit 1%): 37 of 500 requests");
    expect(parseBakeRecord(storedValue)?.progress.verdict).toBe('fail');
  });

  it('fails when every target is unhealthy', async () => {
    figures(100, 0);
    hosts(0, 3);
    await expect(poll()).rejects.toThrow("every target of the release's target group is unhealthy (0 of 3)");
  });

  it('asks CloudWatch for the named alarms only, and fails on one in ALARM', async () => {
    figures(100, 0);
    cw.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'shop-p99', StateValue: 'ALARM', StateReason: 'Threshold Crossed: 1 datapoint [2.4] > 1.0' }],
      CompositeAlarms: [{ AlarmName: 'shop-health', StateValue: 'OK' }],
    });
    await expect(poll({ Alarms: ['shop-health', 'shop-p99'] })).rejects.toThrow(
      'bake: alarm "shop-p99" is in ALARM after 0s: Threshold Crossed: 1 datapoint [2.4] > 1.0',
    );
    expect(cw.commandCalls(DescribeAlarmsCommand)[0].args[0].input).toEqual({
      AlarmNames: ['shop-health', 'shop-p99'],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    });
  });

  it('waits through throttling without counting the poll', async () => {
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    expect(await poll()).toEqual({ IsComplete: false });
    expect(parseBakeRecord(storedValue)?.progress).toMatchObject({ polls: 0, lastMessage: 'bake: AWS API error, retrying: Throttling: Rate exceeded' });
  });

  it('does not carry an earlier deploy of the same release into this one', async () => {
    figures(100, 50);
    await expect(poll({}, 'Create', 'req-old')).rejects.toThrow('bake: 50%');
    figures(100, 0);
    expect(await poll({}, 'Create', 'req-new')).toEqual({ IsComplete: false });
  });

  it('Update and Delete complete at once and touch nothing', async () => {
    expect(await poll({}, 'Delete')).toEqual({ IsComplete: true });
    const out = await handlers.onEvent({ RequestType: 'Delete', PhysicalResourceId: PARAM, ResourceProperties: props() } as unknown as CdkCustomResourceEvent);
    expect(out).toEqual({ PhysicalResourceId: PARAM });
    expect(cw.calls().length + elb.calls().length + ssm.calls().length).toBe(0);
  });

  it('a bad property names itself and its value', async () => {
    await expect(poll({ MaxErrorRate: 'lots' })).rejects.toThrow('bake property MaxErrorRate: "lots" must be a number from 0 to 100');
  });
});
