// The traffic step handler with the SDK mocked underneath: what it asks CloudWatch for (both target
// groups over the same minutes, p99 as an extended statistic), how a throttle only makes it wait,
// a bad property's one line, and the log that never carries the event's signed URL.
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CdkCustomResourceEvent, CdkCustomResourceIsCompleteEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createBakeClients } from '../../lib/aws/clients';
import { trafficHandlers } from '../../lib/traffic/handler';

const cw = mockClient(CloudWatchClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);

const LB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/shop/abc';
const LIVE = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/shop-r1/1111111111111111';
const NEW = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/shop-r2/2222222222222222';
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/shop/abc/l80';
const PARAM = '/greenlight/shop/production/traffic/r2';
const START = Date.UTC(2026, 10, 25, 9, 0, 30);

let now = START;
let lines: string[] = [];
let stored: string | undefined;
const handlers = trafficHandlers({ clients: () => createBakeClients('eu-west-1'), now: () => now, log: (l) => lines.push(l) });

const props = (overrides: Record<string, unknown> = {}) => ({
  ServiceToken: 'x',
  Release: 'r2',
  LoadBalancerArn: LB_ARN,
  LoadBalancer: 'app/shop/abc',
  ListenerPort: '443',
  TargetGroupArn: NEW,
  TargetGroup: 'targetgroup/shop-r2/2222222222222222',
  Steps: ['10'],
  StepDurationSeconds: '300',
  SettleSeconds: '180',
  MaxExtensionSeconds: '300',
  OnTooFewRequests: 'fail',
  ErrorMargin: '1',
  Confidence: '99',
  MinRequests: '100',
  LatencyRatio: '1.5',
  LatencyFloorMs: '100',
  MaxErrorRate: '1',
  MaxErrors: '0',
  Alarms: [],
  StickinessSeconds: '0',
  ProgressParameter: PARAM,
  ...overrides,
});

const event = (overrides: Record<string, unknown> = {}) =>
  ({
    RequestType: 'Create',
    RequestId: 'req-1',
    ResourceProperties: props(overrides),
    PhysicalResourceId: PARAM,
    LogicalResourceId: 'Traffic',
    ResourceType: 'Custom::TrafficSteps',
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/shop-production/1',
    ServiceToken: 'x',
    ResponseURL: 'https://example.invalid/signed?X-Amz-Signature=secret',
  }) as unknown as CdkCustomResourceIsCompleteEvent;

beforeEach(() => {
  cw.reset();
  elb.reset();
  ssm.reset();
  now = START;
  lines = [];
  stored = undefined;
  ssm.on(GetParameterCommand).callsFake(() => {
    if (stored === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    return { Parameter: { Value: stored } };
  });
  ssm.on(PutParameterCommand).callsFake((input: { Value: string }) => {
    stored = input.Value;
    return {};
  });
  elb.on(DescribeListenersCommand).resolves({
    Listeners: [{ ListenerArn: LISTENER, Port: 443, DefaultActions: [{ Type: 'forward', TargetGroupArn: LIVE }] }],
  });
  elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ TargetHealth: { State: 'healthy' } }] });
  elb.on(ModifyListenerCommand).resolves({});
});

describe('the traffic step handler', () => {
  it('asks CloudWatch for both target groups over the same minutes as one period, with p99 as an extended statistic', async () => {
    await expect(handlers.isComplete(event())).resolves.toEqual({ IsComplete: false });
    expect(elb.commandCalls(ModifyListenerCommand)[0].args[0].input.DefaultActions?.[0].ForwardConfig).toEqual({
      TargetGroups: [
        { TargetGroupArn: LIVE, Weight: 90 },
        { TargetGroupArn: NEW, Weight: 10 },
      ],
      TargetGroupStickinessConfig: { Enabled: false },
    });
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'releaseRequests', Values: [150] },
        { Id: 'releaseErrors', Values: [] },
        { Id: 'releaseP99', Values: [0.412] },
        { Id: 'liveRequests', Values: [1350] },
        { Id: 'liveErrors', Values: [1] },
        { Id: 'liveP99', Values: [0.031] },
      ],
    });
    now = START + 120_000;
    await expect(handlers.isComplete(event())).rejects.toThrow(
      'traffic step 1 (10%): p99 412 ms vs live 31 ms (limit 1.5× and +100 ms) over 120s: 0 of 150 requests, live 1 of 1350',
    );
    const input = cw.commandCalls(GetMetricDataCommand)[0].args[0].input;
    // From the start of the step's minute to the end of the current one: 09:00 to 09:03, as one period.
    expect([input.StartTime, input.EndTime]).toEqual([new Date(Date.UTC(2026, 10, 25, 9, 0)), new Date(Date.UTC(2026, 10, 25, 9, 3))]);
    const stats = Object.fromEntries((input.MetricDataQueries ?? []).map((q) => [q.Id, [q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat, q.MetricStat?.Period]]));
    expect(stats).toEqual({
      releaseRequests: ['RequestCount', 'Sum', 180],
      releaseErrors: ['HTTPCode_Target_5XX_Count', 'Sum', 180],
      releaseP99: ['TargetResponseTime', 'p99', 180],
      liveRequests: ['RequestCount', 'Sum', 180],
      liveErrors: ['HTTPCode_Target_5XX_Count', 'Sum', 180],
      liveP99: ['TargetResponseTime', 'p99', 180],
    });
    const dims = (id: string) => (input.MetricDataQueries ?? []).find((q) => q.Id === id)?.MetricStat?.Metric?.Dimensions;
    expect(dims('liveP99')).toEqual([
      { Name: 'LoadBalancer', Value: 'app/shop/abc' },
      { Name: 'TargetGroup', Value: 'targetgroup/shop-r1/1111111111111111' },
    ]);
    // Every request went back to the live release before the failure.
    expect(elb.commandCalls(ModifyListenerCommand).at(-1)?.args[0].input.DefaultActions?.[0].ForwardConfig?.TargetGroups).toEqual([
      { TargetGroupArn: LIVE, Weight: 1 },
    ]);
    expect(lines.join('\n')).not.toContain('X-Amz-Signature');
  });

  it('waits through a throttle without touching the weights', async () => {
    await handlers.isComplete(event());
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    now = START + 60_000;
    await expect(handlers.isComplete(event())).resolves.toEqual({ IsComplete: false });
    expect(elb.commandCalls(ModifyListenerCommand)).toHaveLength(1);
    expect(JSON.parse(stored ?? '{}').progress.lastMessage).toBe('traffic step 1 (10%): AWS API error, retrying: Throttling: Rate exceeded');
  });

  it('refuses a bad property in one line naming it and its value, before anything changes', async () => {
    await expect(handlers.onEvent(event({ Steps: ['10', '150'] }) as unknown as CdkCustomResourceEvent)).rejects.toThrow(
      'traffic property Steps: "150" must be a number from 1 to 99',
    );
    await expect(handlers.onEvent(event({ OnTooFewRequests: 'wait' }) as unknown as CdkCustomResourceEvent)).rejects.toThrow(
      'traffic property OnTooFewRequests: "wait" must be "fail" or "pass"',
    );
    expect(elb.commandCalls(ModifyListenerCommand)).toHaveLength(0);
  });
});
