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
  /**
   * The account's On-Demand instances running now, the fleet's instance type with its vCPUs
   * (undefined when the region does not offer it), and the Standard vCPU quota (undefined when
   * Service Quotas has no value for it).
   */
  readonly vcpus?: {
    readonly running: ReadonlyArray<{ readonly instanceType: string; readonly vcpus: number }>;
    readonly instanceType: string;
    readonly perInstance?: number;
    readonly quota?: number;
  };
}

/** Addresses the smoke checks' function may take in the same subnets besides the fleet. */
export const FUNCTION_ADDRESSES = 2;

const short = (arn: string): string => arn.split(':').pop() ?? arn;

/** The Service Quotas code of the quota `STANDARD_FAMILY` instances count against. */
export const STANDARD_VCPU_QUOTA_CODE = 'L-1216C47A';

/**
 * The families of the On-Demand Standard quota: A, C, D, H, I, M, R, T and Z (im4gn and is4gen are
 * I). Not mac, inf, hpc, dl, trn, u-, x, g, p, f or vt, which have quotas of their own.
 */
export const isStandardFamily = (instanceType: string): boolean => /^(?:[acdhimrtz]|im|is)\d/.test(instanceType);

/** One line when the running Standard vCPUs plus a whole new fleet at capacity.max exceed the quota. */
function vcpuProblem(f: PreflightFacts): string | undefined {
  const v = f.vcpus;
  if (!v || v.quota === undefined || v.perInstance === undefined || !isStandardFamily(v.instanceType)) return undefined;
  const running = v.running.filter((i) => isStandardFamily(i.instanceType)).reduce((sum, i) => sum + i.vcpus, 0);
  const fleet = f.capacity.max * v.perInstance;
  if (running + fleet <= v.quota) return undefined;
  return (
    `vCPUs: ${running} Standard vCPUs run in ${f.region} and the new fleet at capacity.max ${f.capacity.max} × ${v.instanceType} (${v.perInstance} vCPUs) needs ${fleet} more: ` +
    `${running + fleet}, over the account's On-Demand Standard vCPU quota of ${v.quota} (Service Quotas ${STANDARD_VCPU_QUOTA_CODE}); ` +
    `request a higher quota or lower capacity.max to ${Math.max(0, Math.floor((v.quota - running) / v.perInstance))}`
  );
}

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
  const vcpus = vcpuProblem(f);
  if (vcpus) problems.push(vcpus);
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
