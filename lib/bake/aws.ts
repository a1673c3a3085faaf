// The bake's AWS calls: the release target group's figures from CloudWatch and the load balancer,
// and the named alarms' states. Tests replace the SDK underneath with aws-sdk-client-mock; the SDK's
// defaults keep AWS_ENDPOINT_URL and AWS_REGION working, as in the gate's module.
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type AwsClients, createClients, isTransient } from '../health-gate/aws';
import type { AlarmObservation, BakeObservation } from './evaluate';

export interface BakeClients extends AwsClients {
  readonly cloudWatch: CloudWatchClient;
}

export function createBakeClients(region?: string): BakeClients {
  return { ...createClients(region), cloudWatch: new CloudWatchClient(region ? { region } : {}) };
}

/** The metrics' dimensions and the target group to ask about its targets. */
export interface BakeTarget {
  /** `app/<name>/<id>` */
  readonly loadBalancer: string;
  /** `targetgroup/<name>/<id>` */
  readonly targetGroup: string;
  readonly targetGroupArn: string;
  readonly alarms: readonly string[];
}

/** The load balancer publishes 60-second periods. */
export const METRIC_PERIOD_SECONDS = 60;

const minuteFloor = (ms: number) => Math.floor(ms / 60_000) * 60_000;

const query = (id: string, metric: string, target: BakeTarget): MetricDataQuery => ({
  Id: id,
  MetricStat: {
    Metric: {
      Namespace: 'AWS/ApplicationELB',
      MetricName: metric,
      Dimensions: [
        { Name: 'LoadBalancer', Value: target.loadBalancer },
        { Name: 'TargetGroup', Value: target.targetGroup },
      ],
    },
    Period: METRIC_PERIOD_SECONDS,
    Stat: 'Sum',
  },
  ReturnData: true,
});

/**
 * Requests and 5xx answers of the release's target group from the start of the cutover's minute
 * until now, every page of GetMetricData. A period with no requests has no data point: zero.
 */
export async function targetGroupCounts(
  clients: BakeClients,
  target: BakeTarget,
  since: number,
  until: number,
): Promise<{ requests: number; errors5xx: number }> {
  const sums = { requests: 0, errors5xx: 0 };
  let token: string | undefined;
  do {
    const page = await clients.cloudWatch.send(
      new GetMetricDataCommand({
        MetricDataQueries: [query('requests', 'RequestCount', target), query('errors5xx', 'HTTPCode_Target_5XX_Count', target)],
        StartTime: new Date(minuteFloor(since)),
        EndTime: new Date(minuteFloor(until) + 60_000),
        NextToken: token,
      }),
    );
    for (const result of page.MetricDataResults ?? []) {
      const total = (result.Values ?? []).reduce((a, b) => a + b, 0);
      if (result.Id === 'requests') sums.requests += total;
      if (result.Id === 'errors5xx') sums.errors5xx += total;
    }
    token = page.NextToken;
  } while (token);
  return sums;
}

/** Healthy and unhealthy targets right now; the metrics' host counts arrive minutes late. */
export async function hostCounts(clients: AwsClients, targetGroupArn: string): Promise<{ healthyHosts: number; unhealthyHosts: number }> {
  const out = await clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  const states = (out.TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State);
  return { healthyHosts: states.filter((s) => s === 'healthy').length, unhealthyHosts: states.filter((s) => s === 'unhealthy').length };
}

/** The state of each named alarm, metric or composite; a name CloudWatch does not know is left out. */
export async function alarmStates(clients: BakeClients, names: readonly string[]): Promise<AlarmObservation[]> {
  if (names.length === 0) return [];
  const out = await clients.cloudWatch.send(
    new DescribeAlarmsCommand({ AlarmNames: [...names], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }),
  );
  return [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])].map((a) => ({
    name: a.AlarmName ?? '',
    state: a.StateValue ?? 'INSUFFICIENT_DATA',
    reason: a.StateReason,
  }));
}

/** One poll of the bake; a transient error becomes `transientError`, anything else is thrown. */
export async function observeBake(clients: BakeClients, target: BakeTarget, since: number, at: number): Promise<BakeObservation> {
  try {
    const [counts, hosts, alarms] = await Promise.all([
      targetGroupCounts(clients, target, since, at),
      hostCounts(clients, target.targetGroupArn),
      alarmStates(clients, target.alarms),
    ]);
    return { at, ...counts, ...hosts, alarms };
  } catch (err) {
    if (!isTransient(err)) throw err;
    const text = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : String(err);
    return { at, requests: 0, errors5xx: 0, healthyHosts: 0, unhealthyHosts: 0, alarms: [], transientError: text };
  }
}
