// CloudWatch: the release target group's request and 5xx counts, and the named alarms' states.
import { DescribeAlarmsCommand, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { AlarmObservation, ReleaseFigures } from '../observations';
import type { BakeClients } from './clients';

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

const query = (id: string, metric: string, target: Pick<BakeTarget, 'loadBalancer' | 'targetGroup'>, stat = 'Sum', period = METRIC_PERIOD_SECONDS): MetricDataQuery => ({
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
    Period: period,
    Stat: stat,
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

/** Two target groups of one load balancer, compared over the same minutes. */
export interface ComparedTargets {
  /** `app/<name>/<id>` */
  readonly loadBalancer: string;
  /** `targetgroup/<name>/<id>` of the new release and of the live one. */
  readonly release: string;
  readonly live: string;
}

/**
 * Requests, 5xx answers and the p99 of TargetResponseTime of both target groups from the start of
 * `since`'s minute to the end of `until`'s, as one period per query, so the p99 is over the whole
 * window. One GetMetricData call with six queries. A group with no requests has no data points:
 * zero requests and no p99.
 */
export async function comparedFigures(
  clients: BakeClients,
  targets: ComparedTargets,
  since: number,
  until: number,
): Promise<{ release: ReleaseFigures; live: ReleaseFigures }> {
  const start = minuteFloor(since);
  const end = minuteFloor(until) + 60_000;
  const period = (end - start) / 1000;
  const sides = { release: targets.release, live: targets.live };
  const queries = Object.entries(sides).flatMap(([side, targetGroup]) => {
    const target = { loadBalancer: targets.loadBalancer, targetGroup };
    return [
      query(`${side}Requests`, 'RequestCount', target, 'Sum', period),
      query(`${side}Errors`, 'HTTPCode_Target_5XX_Count', target, 'Sum', period),
      query(`${side}P99`, 'TargetResponseTime', target, 'p99', period),
    ];
  });
  const values = new Map<string, number[]>();
  let token: string | undefined;
  do {
    const page = await clients.cloudWatch.send(
      new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(start), EndTime: new Date(end), NextToken: token }),
    );
    for (const result of page.MetricDataResults ?? []) {
      const finite = (result.Values ?? []).filter((v) => Number.isFinite(v));
      values.set(result.Id ?? '', [...(values.get(result.Id ?? '') ?? []), ...finite]);
    }
    token = page.NextToken;
  } while (token);
  const sum = (id: string) => (values.get(id) ?? []).reduce((a, b) => a + b, 0);
  const figures = (side: string): ReleaseFigures => {
    const p99 = values.get(`${side}P99`) ?? [];
    // TargetResponseTime is in seconds.
    return { requests: sum(`${side}Requests`), errors5xx: sum(`${side}Errors`), ...(p99.length > 0 ? { p99Ms: Math.max(...p99) * 1000 } : {}) };
  };
  return { release: figures('release'), live: figures('live') };
}
