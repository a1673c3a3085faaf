// `greenlight recover --env <env>`: a stack stuck in UPDATE_ROLLBACK_FAILED, its failed resources
// named with their reasons, the serving listener put back on the live release's target group when
// a skip would otherwise leave users on the failed release, then ContinueUpdateRollback with the
// skip list planRecovery decides. Any other state: one line, nothing changed.
import { type AwsClients, createEnvironmentClients, createEnvironmentCloudFormationClient } from '../aws/clients';
import { type CloudFormationClient, continueUpdateRollback, failureReasons, stackResources, stackStatus } from '../aws/cloudformation';
import { setListenerForward } from '../aws/elbv2';
import { UserError } from '../errors';
import { type CliEnvironment, explainAwsError, loadEnvironment } from './environment';
import { listenerOfTargetGroup, listenerPorts, liveTarget } from './live-target';
import { planRecovery, type RecoverFacts, renderPlan, STUCK_STATUS } from './recover-plan';

export interface RecoverCommandOptions {
  readonly env?: string;
  /** Print what would be done, and do nothing. */
  readonly dryRun?: boolean;
}

/** DescribeStacks; when stuck, every page of ListStackResources and DescribeStackEvents, the live release and the serving listener. */
export async function collectRecoverFacts(cfn: CloudFormationClient, clients: AwsClients, env: CliEnvironment): Promise<RecoverFacts> {
  const base = { app: env.app, envName: env.envName, stackName: env.stackName };
  const status = await stackStatus(cfn, env.stackName);
  if (status !== STUCK_STATUS) return { ...base, status, failed: [] };
  const reasons = await failureReasons(cfn, env.stackName);
  const failed = (await stackResources(cfn, env.stackName))
    .filter((r) => r.status.endsWith('_FAILED'))
    .map((r) => ({ logicalId: r.logicalId, type: r.type, physicalId: r.physicalId, reason: reasons.get(r.logicalId) ?? r.reason }));
  const live = await liveTarget(clients, env);
  const port = listenerPorts(env).serving;
  const listener = live?.targetGroupArn ? (await listenerOfTargetGroup(clients, live.targetGroupArn, port))?.listener : undefined;
  return { ...base, status, failed, live, ...(listener ? { serving: { listenerArn: listener.listenerArn, port, targetGroups: listener.targetGroups } } : {}) };
}

/** Recovers the environment's stack and resolves with the lines to print; refusals are UserErrors. */
export async function recoverCommand(
  opts: RecoverCommandOptions,
  projectDir = '.',
  aws?: { readonly cfn: CloudFormationClient; readonly clients: AwsClients },
): Promise<string> {
  const env = loadEnvironment(opts.env, projectDir);
  const cfn = aws?.cfn ?? createEnvironmentCloudFormationClient(env.settings.region);
  const clients = aws?.clients ?? createEnvironmentClients(env.settings.region);
  const facts = await collectRecoverFacts(cfn, clients, env).catch((err) => explainAwsError(err, `reading ${env.stackName}`));
  const plan = planRecovery(facts);
  if (plan.action === 'refuse') throw new UserError(plan.line);
  const lines = renderPlan(facts, plan);
  if (opts.dryRun) return [...lines, '--dry-run: nothing changed'].join('\n');
  try {
    // The listener first: once skipped, CloudFormation no longer puts it back.
    if (plan.restore) await setListenerForward(clients, plan.restore.listenerArn, [{ arn: plan.restore.targetGroupArn, weight: 1 }]);
    await continueUpdateRollback(cfn, env.stackName, plan.skip);
  } catch (err) {
    explainAwsError(err, `recovering ${env.stackName}`);
  }
  lines.push(`rollback continued: follow it with aws cloudformation describe-stacks --stack-name ${env.stackName}, then greenlight status --env ${env.envName}`);
  return lines.join('\n');
}
