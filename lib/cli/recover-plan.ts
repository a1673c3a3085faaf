// What `greenlight recover` does with a stack stuck in UPDATE_ROLLBACK_FAILED, as a pure verdict on
// what was read: which resources failed and why, whether the serving listener must first be put
// back on the live release's target group, the skip list for ContinueUpdateRollback, and what each
// skip leaves to undo by hand. A skipped resource is marked rolled back without being touched, so
// nothing that decides where users' requests go is skipped while it points anywhere but the live release.
import { liveReleaseParameterName, previewKeyParameterName } from '../ssm-paths';

/** A resource the rollback could not undo. */
export interface FailedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  readonly reason?: string;
}

export interface RecoverFacts {
  readonly app: string;
  readonly envName: string;
  readonly stackName: string;
  /** The stack's status; undefined when there is no such stack. */
  readonly status?: string;
  readonly failed: readonly FailedResource[];
  /** The recorded live release and its target group; undefined before the first release or when its group is gone. */
  readonly live?: { readonly release: string; readonly targetGroupArn?: string };
  /** The serving listener and where its default action forwards; undefined when it was not found. */
  readonly serving?: { readonly listenerArn: string; readonly port: number; readonly targetGroups: ReadonlyArray<{ readonly arn: string; readonly weight: number }> };
}

export type RecoverPlan =
  /** Nothing to recover, or nothing that may be done safely: one line, nothing changed. */
  | { readonly action: 'refuse'; readonly line: string }
  | {
      readonly action: 'continue';
      readonly failed: readonly FailedResource[];
      /** Put the serving listener's default action on this target group before continuing. */
      readonly restore?: { readonly listenerArn: string; readonly targetGroupArn: string; readonly from: readonly string[] };
      readonly skip: readonly string[];
      /** One line per skipped resource that leaves something to undo by hand. */
      readonly byHand: readonly string[];
    };

export const STUCK_STATUS = 'UPDATE_ROLLBACK_FAILED';

const LISTENER = 'AWS::ElasticLoadBalancingV2::Listener';
const TRAFFIC_STEPS = 'Custom::TrafficSteps';

const short = (arn: string): string => arn.split(':').pop() ?? arn;

/** Whether skipping this resource would leave the serving listener as the failed deploy left it. */
function decidesServing(r: FailedResource, serving: RecoverFacts['serving']): boolean {
  if (r.type === TRAFFIC_STEPS) return true;
  // A listener that cannot be told apart from the serving one counts as the serving one.
  return r.type === LISTENER && (serving === undefined || r.physicalId === serving.listenerArn);
}

/** What a skip leaves behind, by resource type: the runbook's table in docs/deploying.md. */
function leftByHand(r: FailedResource, f: RecoverFacts): string | undefined {
  const what = `${r.logicalId} (${r.type})`;
  switch (r.type) {
    case 'Custom::PreviewKey':
      return `${what}: delete the release's preview key, aws ssm delete-parameter --name ${r.physicalId?.startsWith('/') ? r.physicalId : previewKeyParameterName(f.app, f.envName, '<release>')}`;
    case 'Custom::ScalingHold':
      return `${what}: resume the live group's scaling, aws autoscaling resume-processes --auto-scaling-group-name <the live release's group>`;
    case 'AWS::SSM::Parameter':
      return r.physicalId === liveReleaseParameterName(f.app, f.envName)
        ? `${what}: put the previous release back, aws ssm put-parameter --overwrite --type String --name ${r.physicalId} --value <release>`
        : undefined;
    case 'AWS::AutoScaling::AutoScalingGroup':
    case 'AWS::ElasticLoadBalancingV2::TargetGroup':
    case 'AWS::ElasticLoadBalancingV2::ListenerRule':
    case 'AWS::EC2::LaunchTemplate':
      return `${what}: delete ${r.physicalId ?? 'it'} by hand if it is left over; nothing routes to it`;
    default:
      return undefined;
  }
}

export function planRecovery(f: RecoverFacts): RecoverPlan {
  if (f.status === undefined) return { action: 'refuse', line: `${f.stackName}: no such stack in this account and region; nothing to recover` };
  if (f.status !== STUCK_STATUS) {
    return { action: 'refuse', line: `${f.stackName} is ${f.status}, not ${STUCK_STATUS}: nothing to recover, nothing changed` };
  }
  const stuckServing = f.failed.filter((r) => decidesServing(r, f.serving));
  let restore: Extract<RecoverPlan, { action: 'continue' }>['restore'];
  if (stuckServing.length > 0) {
    const names = stuckServing.map((r) => r.logicalId).join(', ');
    const target = f.live?.targetGroupArn;
    if (!f.live || !target) {
      return {
        action: 'refuse',
        line:
          `${f.stackName}: ${names} decides where requests go and the live release's target group is unknown ` +
          `(${f.live ? `no target group on ${f.live.release}'s group` : `nothing recorded at ${liveReleaseParameterName(f.app, f.envName)}`}); ` +
          'nothing changed: follow the manual runbook in docs/deploying.md',
      };
    }
    if (!f.serving) {
      return { action: 'refuse', line: `${f.stackName}: ${names} is stuck and no serving listener was found on ${short(target)}'s load balancer; nothing changed: follow the manual runbook in docs/deploying.md` };
    }
    const forwarding = f.serving.targetGroups.filter((t) => t.weight > 0).map((t) => t.arn);
    if (forwarding.length !== 1 || forwarding[0] !== target) restore = { listenerArn: f.serving.listenerArn, targetGroupArn: target, from: forwarding };
  }
  return {
    action: 'continue',
    failed: f.failed,
    ...(restore ? { restore } : {}),
    skip: f.failed.map((r) => r.logicalId),
    byHand: f.failed.map((r) => leftByHand(r, f)).filter((line): line is string => line !== undefined),
  };
}

/** The plan as the lines recover prints: each failed resource with its reason, then what it does. */
export function renderPlan(f: RecoverFacts, plan: Extract<RecoverPlan, { action: 'continue' }>): string[] {
  const lines = [`${f.stackName} is ${STUCK_STATUS}; ${plan.failed.length ? `${plan.failed.length} resource(s) could not be rolled back:` : 'no resource is marked failed'}`];
  for (const r of plan.failed) lines.push(`  ${r.logicalId} (${r.type}${r.physicalId ? ` ${r.physicalId}` : ''}): ${r.reason ?? 'no reason given'}`);
  if (plan.restore) {
    lines.push(
      `serving listener ${short(plan.restore.listenerArn)} forwards to ${plan.restore.from.map(short).join(', ') || 'no target group'}: ` +
        `putting it back on ${short(plan.restore.targetGroupArn)} of the live release ${f.live?.release}`,
    );
  }
  lines.push(plan.skip.length ? `continuing the rollback, skipping ${plan.skip.join(', ')}` : 'continuing the rollback, skipping nothing');
  if (plan.byHand.length) lines.push('left to undo by hand:', ...plan.byHand.map((l) => `  ${l}`));
  return lines;
}
