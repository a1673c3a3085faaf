// `greenlight status --env <env>`: the live release, the standby with its capacity and when it
// scales to zero, the environment's fleets with their capacity, their scaling policies and last
// scaling activity, every instance's target health, which target group the serving listener
// forwards to, and where each release stands in gate, smoke, traffic steps, cutover and bake, as tables.
import { describeGroupScaling, stackGroups } from '../aws/auto-scaling';
import { type AwsClients, createEnvironmentClients } from '../aws/clients';
import { describeTargetHealth, servingListeners } from '../aws/elbv2';
import { readParameter, readSecureParameter } from '../aws/ssm';
import { targetGroupLabel, targetReason } from '../health-gate/evaluate';
import { PREVIEW_KEY_HEADER } from '../preview/key';
import { liveReleaseParameterName, previewKeyParameterName, RELEASE_TAG, schemaRecordParameterName } from '../ssm-paths';
import { parseSchemaRecord, type SchemaRecord } from '../migrations/rollback-safety';
import { type CliEnvironment, explainAwsError, loadEnvironment } from './environment';
import { type Phase, phaseStates } from './phases';
import { readReleaseRecords } from './release-records';
import { describeActivity, describePolicy, describeScheduledAction } from './scaling-summary';
import { renderTable } from './table';

export interface FleetStatus {
  readonly name: string;
  readonly release: string;
  readonly min: number;
  readonly desired: number;
  readonly max: number;
  readonly inService: number;
  readonly instances: number;
  readonly live: boolean;
  /** One line per scaling policy and scheduled action. */
  readonly scaling: readonly string[];
  readonly lastActivity: string;
  /** A one-time scheduled action to zero: the mark of a standby, and when it empties. */
  readonly scalesToZeroAt?: Date;
}

export interface TargetStatus {
  readonly instanceId: string;
  readonly release: string;
  readonly lifecycle: string;
  readonly health: string;
  readonly targetGroup: string;
  readonly state: string;
  readonly reason: string;
}

/** Where the serving listener sends requests. */
export interface ServingStatus {
  readonly port?: number;
  readonly targetGroup: string;
  /** Its share of the requests in percent, while the traffic steps weight the listener. */
  readonly share?: number;
  /** The release whose fleet is registered in that target group, if any. */
  readonly release?: string;
}

export interface EnvironmentStatus {
  readonly stackName: string;
  readonly liveRelease?: string;
  /** The live release's deploy found that its migrations break the release before it. */
  readonly notRollbackSafe?: SchemaRecord;
  readonly fleets: readonly FleetStatus[];
  readonly targets: readonly TargetStatus[];
  readonly serving: readonly ServingStatus[];
  /** Per release with a fleet, each phase's state. */
  readonly phases: ReadonlyArray<{ readonly release: string } & Readonly<Record<Phase, string>>>;
}

/**
 * One DescribeAutoScalingGroups (paginated), one DescribeTargetHealth per target group, two
 * GetParameter (the live release, the deploy's migration record), per group DescribePolicies, DescribeScheduledActions and DescribeScalingActivities,
 * one DescribeTargetGroups with DescribeListeners per load balancer, and three GetParameter per release.
 */
export async function collectStatus(clients: AwsClients, env: CliEnvironment): Promise<EnvironmentStatus> {
  const liveRelease = await readParameter(clients, liveReleaseParameterName(env.app, env.envName));
  const record = parseSchemaRecord(await readParameter(clients, schemaRecordParameterName(env.app, env.envName)));
  const notRollbackSafe = record && record.release === liveRelease && !record.rollbackSafe ? record : undefined;
  const groups = await stackGroups(clients, env.stackName);
  const releaseOf = new Map<string, string>();
  const instanceRows = new Map<string, { release: string; lifecycle: string; health: string }>();
  const scaling = await Promise.all(groups.map((g) => describeGroupScaling(clients, g.AutoScalingGroupName ?? '')));
  const fleets = groups.map((g, n): FleetStatus => {
    const release = g.Tags?.find((t) => t.Key === RELEASE_TAG)?.Value ?? '-';
    for (const i of g.Instances ?? []) {
      releaseOf.set(i.InstanceId ?? '', release);
      instanceRows.set(i.InstanceId ?? '', { release, lifecycle: i.LifecycleState ?? '-', health: i.HealthStatus ?? '-' });
    }
    return {
      name: g.AutoScalingGroupName ?? '-',
      release,
      min: g.MinSize ?? 0,
      desired: g.DesiredCapacity ?? 0,
      max: g.MaxSize ?? 0,
      inService: (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
      instances: (g.Instances ?? []).length,
      live: release === liveRelease,
      scaling: [...scaling[n].policies.map(describePolicy), ...scaling[n].scheduledActions.map(describeScheduledAction)],
      lastActivity: describeActivity(scaling[n].lastActivity),
      scalesToZeroAt: scaling[n].scheduledActions.find((a) => a.DesiredCapacity === 0 && a.Recurrence === undefined)?.StartTime,
    };
  });
  const targetGroups = [...new Set(groups.flatMap((g) => g.TargetGroupARNs ?? []))];
  const ids = new Set(instanceRows.keys());
  const health = (await Promise.all(targetGroups.map((tg) => describeTargetHealth(clients, tg, ids)))).flat();
  const targets = [...instanceRows].flatMap(([instanceId, row]) => {
    const own = health.filter((h) => h.instanceId === instanceId);
    if (own.length === 0) return [{ instanceId, ...row, targetGroup: '-', state: 'not registered', reason: '' }];
    return own.map((h) => ({
      instanceId,
      ...row,
      targetGroup: targetGroupLabel(h.targetGroup),
      state: h.state,
      reason: h.state === 'healthy' ? '' : targetReason(h),
    }));
  });
  const releaseOfTargetGroup = new Map(groups.flatMap((g) => (g.TargetGroupARNs ?? []).map((tg) => [tg, g.Tags?.find((t) => t.Key === RELEASE_TAG)?.Value] as const)));
  const listeners = await servingListeners(clients, targetGroups);
  const serving = listeners.flatMap((l) =>
    l.targetGroupArns.map((tg) => ({
      port: l.port,
      targetGroup: targetGroupLabel(tg),
      release: releaseOfTargetGroup.get(tg),
      ...(l.shares?.[tg] !== undefined ? { share: l.shares[tg] } : {}),
    })),
  );
  const servingReleases = new Set(serving.map((s) => s.release));
  const releases = [...new Set(fleets.map((f) => f.release).filter((r) => r !== '-'))];
  const records = await Promise.all(releases.map((r) => readReleaseRecords(clients, env.app, env.envName, r)));
  const phases = releases.map((release, n) => ({ release, ...phaseStates(records[n], servingReleases.has(release)) }));
  return { stackName: env.stackName, liveRelease, ...(notRollbackSafe ? { notRollbackSafe } : {}), fleets, targets, serving, phases };
}

const servingLine = (s: ServingStatus) =>
  `serving listener${s.port ? ` (port ${s.port})` : ''} forwards ${s.share !== undefined ? `${s.share}% ` : ''}to target group ${s.targetGroup}` + (s.release ? ` (release ${s.release})` : ' (no fleet of this stack)');

/** `standby: r1 in <group>, 2/2 in service (desired 2); scales to zero at <time>, in 42 min` */
function standbyLine(fleets: readonly FleetStatus[], now: Date): string | undefined {
  const standby = fleets.find((f) => !f.live && f.scalesToZeroAt !== undefined);
  if (!standby?.scalesToZeroAt) return undefined;
  const at = standby.scalesToZeroAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const left = Math.ceil((standby.scalesToZeroAt.getTime() - now.getTime()) / 60_000);
  const when = left > 0 ? `scales to zero at ${at}, in ${left} min` : `scaled to zero at ${at}; a rollback scales it up first`;
  return `standby: ${standby.release} in ${standby.name}, ${standby.inService}/${standby.instances} in service (desired ${standby.desired}); ${when}`;
}

export function renderStatus(status: EnvironmentStatus, now = new Date()): string {
  const parts = [`${status.stackName}: live release ${status.liveRelease ?? '(none yet)'}`];
  const standby = standbyLine(status.fleets, now);
  if (standby) parts.push(standby);
  const unsafe = status.notRollbackSafe;
  if (unsafe) parts.push(`rollback to ${unsafe.previous}: not safe, ${status.liveRelease}'s migrations break it (${unsafe.reason ?? ''}); greenlight rollback refuses without --accept-schema-risk`);
  if (status.fleets.length === 0) {
    parts.push('no Auto Scaling groups in this stack');
    return parts.join('\n');
  }
  parts.push(...(status.serving.length > 0 ? status.serving.map(servingLine) : ['serving listener forwards to no target group (no release is live yet)']));
  parts.push(
    '',
    renderTable(
      ['RELEASE', 'GATE', 'SMOKE', 'TRAFFIC', 'CUTOVER', 'BAKE'],
      status.phases.map((p) => [p.release, p.gate, p.smoke, p.traffic, p.cutover, p.bake]),
    ),
    '',
    renderTable(
      ['GROUP', 'RELEASE', 'LIVE', 'MIN', 'DESIRED', 'MAX', 'IN SERVICE'],
      status.fleets.map((f) => [f.name, f.release, f.live ? 'yes' : f.scalesToZeroAt ? 'standby' : '', String(f.min), String(f.desired), String(f.max), `${f.inService}/${f.instances}`]),
    ),
  );
  parts.push(
    '',
    renderTable(
      ['GROUP', 'SCALING'],
      status.fleets.flatMap((f) => (f.scaling.length > 0 ? f.scaling : ['none']).map((line) => [f.name, line])),
    ),
    '',
    renderTable(['GROUP', 'LAST SCALING ACTIVITY'], status.fleets.map((f) => [f.name, f.lastActivity])),
  );
  if (status.targets.length > 0) {
    parts.push(
      '',
      renderTable(
        ['INSTANCE', 'RELEASE', 'LIFECYCLE', 'ASG HEALTH', 'TARGET GROUP', 'TARGET STATE', 'REASON'],
        status.targets.map((t) => [t.instanceId, t.release, t.lifecycle, t.health, t.targetGroup, t.state, t.reason]),
      ),
    );
  }
  return parts.join('\n');
}

/** One release's preview key, or why it cannot be shown. */
export interface PreviewKeyStatus {
  readonly release: string;
  readonly key?: string;
  readonly unreadable?: string;
}

/**
 * Each release's preview key, read with decryption: only those whose credentials may read the
 * environment's preview path see a key; the others see why not.
 */
export async function readPreviewKeys(clients: AwsClients, env: CliEnvironment, releases: readonly string[]): Promise<PreviewKeyStatus[]> {
  return Promise.all(
    releases.map(async (release): Promise<PreviewKeyStatus> => {
      const name = previewKeyParameterName(env.app, env.envName, release);
      try {
        const key = await readSecureParameter(clients.ssm, name);
        return key ? { release, key } : { release, unreadable: `no key at ${name}` };
      } catch (err) {
        return { release, unreadable: `${name} not readable with these credentials (${(err as Error).name})` };
      }
    }),
  );
}

export function renderPreviewKeys(keys: readonly PreviewKeyStatus[]): string {
  return [
    `preview: send ${PREVIEW_KEY_HEADER} with the release's key, and the release header naming it, to the preview port`,
    renderTable(['RELEASE', 'PREVIEW KEY'], keys.map((k) => [k.release, k.key ?? k.unreadable ?? ''])),
  ].join('\n');
}

export interface StatusCommandOptions {
  readonly env?: string;
  /** Print each release's preview key, for whoever may read it. */
  readonly previewKey?: boolean;
}

export async function statusCommand(
  opts: StatusCommandOptions,
  projectDir = '.',
  clients?: AwsClients,
  now = new Date(),
): Promise<string> {
  const env = loadEnvironment(opts.env, projectDir);
  const aws = clients ?? createEnvironmentClients(env.settings.region);
  try {
    const status = await collectStatus(aws, env);
    const text = renderStatus(status, now);
    if (!opts.previewKey) return text;
    return `${text}\n\n${renderPreviewKeys(await readPreviewKeys(aws, env, status.phases.map((p) => p.release)))}`;
  } catch (err) {
    return explainAwsError(err, `reading the state of ${env.stackName}`);
  }
}
