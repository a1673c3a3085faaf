// The live release as the environment records it (SSM's live-release), its group's target group,
// and the serving listener on that target group's load balancer: what the preflight compares and
// what recover puts the listener back on.
import { releaseGroups } from '../aws/auto-scaling';
import type { AwsClients } from '../aws/clients';
import { type ListenerForward, listenerOnPort, loadBalancersOf } from '../aws/elbv2';
import { getParameterValue } from '../aws/ssm';
import { liveReleaseParameterName } from '../ssm-paths';
import type { CliEnvironment } from './environment';

export interface LiveTarget {
  readonly release: string;
  /** The desired capacity of the release's largest group. */
  readonly desired: number;
  /** That group's target group; undefined when the group has none. */
  readonly targetGroupArn?: string;
}

/** The recorded live release and its group; undefined before the first release or when its group is gone. */
export async function liveTarget(clients: AwsClients, env: CliEnvironment): Promise<LiveTarget | undefined> {
  const release = await getParameterValue(clients.ssm, liveReleaseParameterName(env.app, env.envName));
  if (!release) return undefined;
  const groups = await releaseGroups(clients, env.stackName, release);
  const group = groups.sort((a, b) => (b.DesiredCapacity ?? 0) - (a.DesiredCapacity ?? 0))[0];
  return group ? { release, desired: group.DesiredCapacity ?? 0, targetGroupArn: group.TargetGroupARNs?.[0] } : undefined;
}

/** The serving and preview ports of the environment's listeners. */
export const listenerPorts = (env: CliEnvironment): { readonly serving: number; readonly preview: number } =>
  env.settings.listener.protocol === 'HTTPS' ? { serving: 443, preview: 8443 } : { serving: 80, preview: 8080 };

/** The load balancer a target group is behind, and its listener on `port`, when both exist. */
export async function listenerOfTargetGroup(
  clients: AwsClients,
  targetGroupArn: string,
  port: number,
): Promise<{ readonly loadBalancerArn: string; readonly listener?: ListenerForward } | undefined> {
  const loadBalancerArn = (await loadBalancersOf(clients, targetGroupArn))[0];
  return loadBalancerArn ? { loadBalancerArn, listener: await listenerOnPort(clients, loadBalancerArn, port) } : undefined;
}
