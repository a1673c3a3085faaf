// Elastic Load Balancing: target health, the listeners that serve, and the preview listener's rules.
import {
  type Action,
  DescribeAccountLimitsCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { TargetHealthObservation } from '../observations';
import type { AwsClients } from './clients';

const targetHealthOf = async (clients: AwsClients, targetGroup: string): Promise<TargetHealthDescription[]> =>
  (await clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroup }))).TargetHealthDescriptions ?? [];

/**
 * Health of every target in one target group. DescribeTargetHealth has no pagination: one call
 * returns every registered target, so it is filtered to the instances asked about.
 */
export async function describeTargetHealth(
  clients: AwsClients,
  targetGroup: string,
  instanceIds: ReadonlySet<string>,
): Promise<TargetHealthObservation[]> {
  const result: TargetHealthObservation[] = [];
  for (const d of await targetHealthOf(clients, targetGroup)) {
    const instanceId = d.Target?.Id;
    if (!instanceId || !instanceIds.has(instanceId)) continue;
    result.push({
      targetGroup,
      instanceId,
      state: d.TargetHealth?.State ?? 'unavailable',
      reasonCode: d.TargetHealth?.Reason,
      description: d.TargetHealth?.Description,
    });
  }
  return result;
}

/** Healthy and unhealthy targets right now; the metrics' host counts arrive minutes late. */
export async function hostCounts(clients: AwsClients, targetGroupArn: string): Promise<{ healthyHosts: number; unhealthyHosts: number }> {
  const states = (await targetHealthOf(clients, targetGroupArn)).map((d) => d.TargetHealth?.State);
  return { healthyHosts: states.filter((s) => s === 'healthy').length, unhealthyHosts: states.filter((s) => s === 'unhealthy').length };
}

/** The priorities of a listener's rules (the default rule has none), every page of DescribeRules. */
export async function listenerRulePriorities(clients: AwsClients, listenerArn: string): Promise<Set<number>> {
  const taken = new Set<number>();
  let marker: string | undefined;
  do {
    const page = await clients.elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }));
    for (const rule of page.Rules ?? []) {
      const priority = Number(rule.Priority);
      if (Number.isInteger(priority)) taken.add(priority);
    }
    marker = page.NextMarker;
  } while (marker);
  return taken;
}

/** A listener whose default action forwards, and the target groups it forwards to. */
export interface ServingListener {
  readonly listenerArn: string;
  readonly port?: number;
  readonly targetGroupArns: readonly string[];
  /** Each group's share in percent when the forward is weighted between several (the traffic steps). */
  readonly shares?: Readonly<Record<string, number>>;
}

/** Each target group a forward sends to, with its weight (a plain forward is one group at weight 1). */
const weightedForwards = (actions: readonly Action[] | undefined): Array<{ arn: string; weight: number }> =>
  (actions ?? [])
    .filter((a) => a.Type === 'forward')
    .flatMap((a) =>
      a.ForwardConfig?.TargetGroups?.length
        ? a.ForwardConfig.TargetGroups.map((t) => ({ arn: t.TargetGroupArn ?? '', weight: t.Weight ?? 1 }))
        : [{ arn: a.TargetGroupArn ?? '', weight: 1 }],
    )
    .filter((t) => t.arn !== '');

const forwardsTo = (actions: readonly Action[] | undefined): string[] => weightedForwards(actions).map((t) => t.arn);

/** Shares in percent of a forward weighted between several groups; undefined for a single group. */
function sharesOf(actions: readonly Action[] | undefined): Record<string, number> | undefined {
  const groups = weightedForwards(actions);
  const total = groups.reduce((sum, t) => sum + t.weight, 0);
  if (groups.length < 2 || total === 0) return undefined;
  return Object.fromEntries(groups.map((t) => [t.arn, Math.round((t.weight / total) * 100)]));
}

/**
 * The listeners that serve by default (a forward action) on the load balancers these target
 * groups belong to: one DescribeTargetGroups, then every page of DescribeListeners per load balancer.
 * The preview listener's default answer is a fixed 404, so it is never among them.
 */
export async function servingListeners(clients: AwsClients, targetGroupArns: readonly string[]): Promise<ServingListener[]> {
  if (targetGroupArns.length === 0) return [];
  const groups = await clients.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [...targetGroupArns] }));
  const loadBalancers = [...new Set((groups.TargetGroups ?? []).flatMap((g) => g.LoadBalancerArns ?? []))];
  const serving: ServingListener[] = [];
  for (const loadBalancerArn of loadBalancers) {
    let marker: string | undefined;
    do {
      const page = await clients.elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker }));
      for (const l of page.Listeners ?? []) {
        const forwarded = forwardsTo(l.DefaultActions);
        const shares = sharesOf(l.DefaultActions);
        if (forwarded.length > 0) serving.push({ listenerArn: l.ListenerArn ?? '', port: l.Port, targetGroupArns: forwarded, ...(shares ? { shares } : {}) });
      }
      marker = page.NextMarker;
    } while (marker);
  }
  return serving;
}

/** A listener's default forward: each target group and its weight (a plain forward is one group at weight 1). */
export interface ListenerForward {
  readonly listenerArn: string;
  readonly targetGroups: ReadonlyArray<{ readonly arn: string; readonly weight: number }>;
}

/**
 * The load balancer's listener on `port` and where its default action forwards, every page of
 * DescribeListeners; undefined when no listener has that port yet (a first deploy creates it).
 */
export async function listenerOnPort(clients: AwsClients, loadBalancerArn: string, port: number): Promise<ListenerForward | undefined> {
  let marker: string | undefined;
  do {
    const page = await clients.elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn, Marker: marker }));
    const listener = (page.Listeners ?? []).find((l) => l.Port === port);
    if (listener) return { listenerArn: listener.ListenerArn ?? '', targetGroups: weightedForwards(listener.DefaultActions) };
    marker = page.NextMarker;
  } while (marker);
  return undefined;
}

/**
 * Sets a listener's default action to one forward: a weighted one across the groups given, with
 * target-group stickiness when `stickinessSeconds` is set, or all to one group. One ModifyListener call.
 */
export async function setListenerForward(
  clients: AwsClients,
  listenerArn: string,
  targetGroups: ReadonlyArray<{ readonly arn: string; readonly weight: number }>,
  stickinessSeconds?: number,
): Promise<void> {
  await clients.elb.send(
    new ModifyListenerCommand({
      ListenerArn: listenerArn,
      DefaultActions: [
        {
          Type: 'forward',
          ForwardConfig: {
            TargetGroups: targetGroups.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight })),
            TargetGroupStickinessConfig: stickinessSeconds ? { Enabled: true, DurationSeconds: stickinessSeconds } : { Enabled: false },
          },
        },
      ],
    }),
  );
}

/**
 * Sets a rule's conditions to these http-header conditions, each header matching one exact value.
 * ModifyRule replaces every condition of the rule; its actions and priority stay.
 */
export async function setRuleHeaderConditions(clients: AwsClients, ruleArn: string, headers: Readonly<Record<string, string>>): Promise<void> {
  await clients.elb.send(
    new ModifyRuleCommand({
      RuleArn: ruleArn,
      Conditions: Object.entries(headers).map(([name, value]) => ({ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: name, Values: [value] } })),
    }),
  );
}

/** The account's Elastic Load Balancing limits in the region, by name (`rules-per-application-load-balancer`, `target-groups`). */
export async function accountLimits(clients: AwsClients): Promise<Map<string, number>> {
  const limits = new Map<string, number>();
  let marker: string | undefined;
  do {
    const page = await clients.elb.send(new DescribeAccountLimitsCommand({ Marker: marker }));
    for (const l of page.Limits ?? []) if (l.Name && l.Max !== undefined) limits.set(l.Name, Number(l.Max));
    marker = page.NextMarker;
  } while (marker);
  return limits;
}

/** How many target groups the account has in the region, every page. */
export async function targetGroupCount(clients: AwsClients): Promise<number> {
  let count = 0;
  let marker: string | undefined;
  do {
    const page = await clients.elb.send(new DescribeTargetGroupsCommand({ Marker: marker, PageSize: 400 }));
    count += page.TargetGroups?.length ?? 0;
    marker = page.NextMarker;
  } while (marker);
  return count;
}

/** The load balancers a target group is behind. */
export async function loadBalancersOf(clients: AwsClients, targetGroupArn: string): Promise<string[]> {
  const out = await clients.elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] }));
  return out.TargetGroups?.[0]?.LoadBalancerArns ?? [];
}
