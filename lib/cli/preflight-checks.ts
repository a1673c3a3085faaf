// The deploy's preflight, as a pure verdict on what was read from AWS: each problem that would make
// `cdk deploy` fail, or go live wrongly, becomes one line before the stack is touched.

export interface PreflightFacts {
  readonly region: string;
  /** The AMI the release deploys, and where it was read; `state` undefined when this account cannot see it here. */
  readonly ami: { readonly id?: string; readonly parameter?: string; readonly state?: string };
  readonly capacity: { readonly min: number; readonly desired: number; readonly max: number };
  /** The live release and its group's desired capacity; undefined before the first release. */
  readonly live?: { readonly release: string; readonly desired: number; readonly targetGroupArn?: string };
  /** Free addresses per subnet the fleet launches into. */
  readonly freeAddresses: ReadonlyMap<string, number>;
  /** Rules on the load balancer's listeners, and the account's limit per load balancer. */
  readonly rules?: { readonly count: number; readonly limit?: number };
  /** Target groups in the account's region, and its limit. */
  readonly targetGroups: { readonly count: number; readonly limit?: number };
  /** Where the serving listener forwards by default; undefined when it does not forward (or does not exist). */
  readonly serving?: { readonly port: number; readonly targetGroupArns: readonly string[] };
}

/** Addresses the smoke checks' function may take in the same subnets besides the fleet. */
export const FUNCTION_ADDRESSES = 2;

const short = (arn: string): string => arn.split(':').pop() ?? arn;

export function preflightProblems(f: PreflightFacts): string[] {
  const problems: string[] = [];
  const { ami } = f;
  if (!ami.id) {
    problems.push(`AMI: no AMI is published for the release (${ami.parameter} does not exist in ${f.region}); run greenlight publish-ami first`);
  } else if (ami.state === undefined) {
    problems.push(`AMI: ${ami.id} does not exist in ${f.region}, or is not shared with this account${ami.parameter ? ` (from ${ami.parameter})` : ''}`);
  } else if (ami.state !== 'available') {
    problems.push(`AMI: ${ami.id} is ${ami.state} in ${f.region}, not available`);
  }
  const liveDesired = f.live?.desired ?? 0;
  if (liveDesired > f.capacity.max) {
    problems.push(
      `capacity: the live group of ${f.live?.release} runs ${liveDesired} instances, more than capacity.max ${f.capacity.max}; ` +
        `the new fleet could not match it: raise capacity.max to at least ${liveDesired}`,
    );
  }
  const fleet = Math.min(f.capacity.max, Math.max(f.capacity.desired, liveDesired));
  const free = [...f.freeAddresses.values()].reduce((a, b) => a + b, 0);
  if (f.freeAddresses.size > 0 && free < fleet + FUNCTION_ADDRESSES) {
    const each = [...f.freeAddresses].map(([id, n]) => `${id} ${n}`).join(', ');
    problems.push(`subnets: ${free} free addresses (${each}); the new fleet of ${fleet} and the functions need ${fleet + FUNCTION_ADDRESSES}`);
  }
  if (f.rules?.limit !== undefined && f.rules.count + 1 > f.rules.limit) {
    problems.push(`listener rules: the load balancer has ${f.rules.count} rules, its limit is ${f.rules.limit}; no room for the release's preview rule`);
  }
  if (f.targetGroups.limit !== undefined && f.targetGroups.count + 1 > f.targetGroups.limit) {
    problems.push(`target groups: the account has ${f.targetGroups.count} in ${f.region}, its limit is ${f.targetGroups.limit}; no room for the release's`);
  }
  const recorded = f.live?.targetGroupArn;
  if (f.live && recorded) {
    const serving = f.serving?.targetGroupArns ?? [];
    // Progressive traffic weights two groups only inside a deploy; between deploys it is one.
    if (serving.length !== 1 || serving[0] !== recorded) {
      problems.push(
        `listener: the serving listener${f.serving ? ` (port ${f.serving.port})` : ''} forwards to ${serving.length ? serving.map(short).join(', ') : 'no target group'}, ` +
          `not to ${short(recorded)} of the live release ${f.live.release}: it was changed by hand; put it back or find out why before deploying`,
      );
    }
  }
  return problems;
}
