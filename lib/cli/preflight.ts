// The deploy's preflight: reads what `cdk deploy` would trip over (the AMI, the live group, the
// subnets' free addresses, the load balancer's room and the account's limits (the EC2 vCPU quota among them), the serving
// listener's default action) and returns one line per problem, before the stack is touched.
import type { AwsClients, EC2Client } from '../aws/clients';
import { imageState, instanceTypeVcpus, runningOnDemandInstances, stackPrivateSubnets, subnetFreeAddresses } from '../aws/ec2';
import { ec2Quota, type ServiceQuotasClient } from '../aws/service-quotas';
import { accountLimits, listenerOnPort, listenerRulePriorities, targetGroupCount } from '../aws/elbv2';
import { getParameterValue } from '../aws/ssm';
import { amiParameterName } from '../ssm-paths';
import type { DeployPlan } from './cdk-deploy';
import type { CliEnvironment } from './environment';
import { listenerOfTargetGroup, listenerPorts, liveTarget } from './live-target';
import { type PreflightFacts, preflightProblems, STANDARD_VCPU_QUOTA_CODE } from './preflight-checks';

export async function collectPreflight(
  clients: AwsClients,
  ec2: EC2Client,
  quotas: ServiceQuotasClient,
  env: CliEnvironment,
  plan: DeployPlan,
): Promise<PreflightFacts> {
  const s = env.settings;
  const parameter = plan.ami ? undefined : amiParameterName(env.app, plan.release);
  const amiId = plan.ami ?? (await getParameterValue(clients.ssm, parameter as string));
  const ami = { id: amiId, parameter, state: amiId ? await imageState(ec2, amiId) : undefined };

  const live = await liveTarget(clients, env);

  const freeAddresses = s.vpc.privateSubnetIds ? await subnetFreeAddresses(ec2, s.vpc.privateSubnetIds) : await stackPrivateSubnets(ec2, env.stackName);

  const limits = await accountLimits(clients);
  const targetGroups = { count: await targetGroupCount(clients), limit: limits.get('target-groups') };

  const { serving: servingPort, preview: previewPort } = listenerPorts(env);
  const lookup = live?.targetGroupArn ? await listenerOfTargetGroup(clients, live.targetGroupArn, servingPort) : undefined;
  let rules: PreflightFacts['rules'];
  let serving: PreflightFacts['serving'];
  if (lookup) {
    const [servingListener, previewListener] = [lookup.listener, await listenerOnPort(clients, lookup.loadBalancerArn, previewPort)];
    let count = 0;
    for (const l of [servingListener, previewListener]) if (l) count += (await listenerRulePriorities(clients, l.listenerArn)).size;
    rules = { count, limit: limits.get('rules-per-application-load-balancer') };
    if (servingListener) serving = { port: servingPort, targetGroupArns: servingListener.targetGroups.filter((t) => t.weight > 0).map((t) => t.arn) };
  }
  const vcpus = {
    running: await runningOnDemandInstances(ec2),
    instanceType: s.instanceType,
    perInstance: await instanceTypeVcpus(ec2, s.instanceType),
    quota: await ec2Quota(quotas, STANDARD_VCPU_QUOTA_CODE),
  };
  return { region: s.region, ami, capacity: s.capacity, live, freeAddresses, rules, targetGroups, serving, vcpus };
}

/** One line per problem; none when the deploy may go ahead. */
export const runPreflight = async (clients: AwsClients, ec2: EC2Client, quotas: ServiceQuotasClient, env: CliEnvironment, plan: DeployPlan): Promise<string[]> =>
  preflightProblems(await collectPreflight(clients, ec2, quotas, env, plan));
