// The deploy's preflight: reads what `cdk deploy` would trip over (the AMI, the live group, the
// subnets' free addresses, the load balancer's room and the account's limits, the serving
// listener's default action) and returns one line per problem, before the stack is touched.
import { releaseGroups } from '../aws/auto-scaling';
import type { AwsClients, EC2Client } from '../aws/clients';
import { imageState, stackPrivateSubnets, subnetFreeAddresses } from '../aws/ec2';
import { accountLimits, listenerOnPort, listenerRulePriorities, loadBalancersOf, targetGroupCount } from '../aws/elbv2';
import { getParameterValue } from '../aws/ssm';
import { amiParameterName, liveReleaseParameterName } from '../ssm-paths';
import type { DeployPlan } from './cdk-deploy';
import type { CliEnvironment } from './environment';
import { type PreflightFacts, preflightProblems } from './preflight-checks';

export async function collectPreflight(clients: AwsClients, ec2: EC2Client, env: CliEnvironment, plan: DeployPlan): Promise<PreflightFacts> {
  const s = env.settings;
  const parameter = plan.ami ? undefined : amiParameterName(env.app, plan.release);
  const amiId = plan.ami ?? (await getParameterValue(clients.ssm, parameter as string));
  const ami = { id: amiId, parameter, state: amiId ? await imageState(ec2, amiId) : undefined };

  const liveRelease = await getParameterValue(clients.ssm, liveReleaseParameterName(env.app, env.envName));
  const liveGroups = liveRelease ? await releaseGroups(clients, env.stackName, liveRelease) : [];
  const liveGroup = liveGroups.sort((a, b) => (b.DesiredCapacity ?? 0) - (a.DesiredCapacity ?? 0))[0];
  const live = liveRelease && liveGroup ? { release: liveRelease, desired: liveGroup.DesiredCapacity ?? 0, targetGroupArn: liveGroup.TargetGroupARNs?.[0] } : undefined;

  const freeAddresses = s.vpc.privateSubnetIds ? await subnetFreeAddresses(ec2, s.vpc.privateSubnetIds) : await stackPrivateSubnets(ec2, env.stackName);

  const limits = await accountLimits(clients);
  const targetGroups = { count: await targetGroupCount(clients), limit: limits.get('target-groups') };

  const https = s.listener.protocol === 'HTTPS';
  const [servingPort, previewPort] = https ? [443, 8443] : [80, 8080];
  const loadBalancer = live?.targetGroupArn ? (await loadBalancersOf(clients, live.targetGroupArn))[0] : undefined;
  let rules: PreflightFacts['rules'];
  let serving: PreflightFacts['serving'];
  if (loadBalancer) {
    const [servingListener, previewListener] = [await listenerOnPort(clients, loadBalancer, servingPort), await listenerOnPort(clients, loadBalancer, previewPort)];
    let count = 0;
    for (const l of [servingListener, previewListener]) if (l) count += (await listenerRulePriorities(clients, l.listenerArn)).size;
    rules = { count, limit: limits.get('rules-per-application-load-balancer') };
    if (servingListener) serving = { port: servingPort, targetGroupArns: servingListener.targetGroups.filter((t) => t.weight > 0).map((t) => t.arn) };
  }
  return { region: s.region, ami, capacity: s.capacity, live, freeAddresses, rules, targetGroups, serving };
}

/** One line per problem; none when the deploy may go ahead. */
export const runPreflight = async (clients: AwsClients, ec2: EC2Client, env: CliEnvironment, plan: DeployPlan): Promise<string[]> =>
  preflightProblems(await collectPreflight(clients, ec2, env, plan));
