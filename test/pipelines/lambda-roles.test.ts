// Each Lambda function of every synthesized shape, against the role it runs as and the permissions
// boundary, with the IAM policy simulator. greenlight's handlers (their template metadata names the
// module) against every AWS call their code can make, read from the code (test/helpers/sdk-calls):
// each call granted to the role and allowed through the boundary, and each of the role's grants
// used by some call. aws-cdk-lib's provider framework functions against what they call: the
// functions and the waiter their environment names.
import { beforeAll, describe, expect, it } from 'vitest';
import { HANDLER_METADATA } from '../../lib/constructs/handler-function';
import { decide, type PolicyDocument } from '../helpers/iam-simulator';
import { sdkActionsReachedFrom } from '../helpers/sdk-calls';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import { Arns, type Stack } from './cloudformation-requests';
import { stacksOf } from './shapes';
import { renderPolicy } from './iam-policy';
import { type StackRole, stackRoles } from './stack-roles';

const { app } = cdkContext();

/** Grants a handler's role holds for the Lambda service rather than for its code, with the reason. */
const FOR_THE_SERVICE: ReadonlyArray<{ readonly actions: RegExp; readonly why: string }> = [
  { actions: /^logs:(CreateLogGroup|CreateLogStream|PutLogEvents)$/, why: 'Lambda writes the function’s logs' },
  { actions: /^ec2:(CreateNetworkInterface|DeleteNetworkInterface|DescribeNetworkInterfaces|DescribeSubnets|AssignPrivateIpAddresses|UnassignPrivateIpAddresses)$/, why: 'Lambda attaches a function in a VPC to it' },
];

/** Calls a handler makes only under a setting, and whether a stack has it on. */
const CONDITIONAL_CALLS: ReadonlyArray<{ readonly action: string; readonly made: (stack: Stack) => boolean; readonly why: string }> = [
  {
    action: 'cloudwatch:DescribeAlarms',
    made: (stack) => Object.values(stack.template.Resources).some((r) => r.Type.startsWith('Custom::') && ((r.Properties?.Alarms as unknown[] | undefined) ?? []).length > 0),
    why: 'only for the alarms an environment names (alarmStates asks nothing for none), and the role is granted them exactly then',
  },
];

interface Fn {
  readonly shape: string;
  readonly stack: Stack;
  readonly logicalId: string;
  readonly handler?: string;
  readonly environment: Record<string, unknown>;
  readonly role: StackRole;
  readonly boundary: PolicyDocument;
}

const functions: Fn[] = [];
const called = new Map<string, string[]>();
const actionsOf = (handler: string): string[] => {
  const [module, exported] = handler.split('#');
  if (!called.has(handler)) called.set(handler, sdkActionsReachedFrom(REPO_ROOT, `lib/${module}`, exported));
  return called.get(handler)!;
};

beforeAll(async () => {
  for (const shape of ['every environment, r1', 'staging, r2 with r1 standing by', 'staging, a bake with alarms'] as const) {
    for (const stack of stacksOf(shape)) {
      const roles = await stackRoles(stack);
      const boundary = renderPolicy(REPO_ROOT, 'permissions-boundary.json', { ACCOUNT_ID: stack.account, REGION: stack.region, APP: app }) as unknown as PolicyDocument;
      const resources = stack.template.Resources as Record<string, { Type: string; Metadata?: Record<string, string>; Properties: Record<string, unknown> }>;
      for (const [id, r] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
        const roleId = (r.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
        functions.push({
          shape, stack, logicalId: id, handler: r.Metadata?.[HANDLER_METADATA], boundary,
          environment: ((r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables) ?? {},
          role: roles.find((x) => x.logicalId === roleId)!,
        });
      }
    }
  }
});

const identityOf = (role: StackRole): PolicyDocument => role.policy as PolicyDocument;

describe("greenlight's handlers", () => {
  it('are found in every shape, each with the module and export it runs, and the conditional calls are made in one', () => {
    for (const c of CONDITIONAL_CALLS) expect(functions.some((f) => c.made(f.stack)), c.action).toBe(true);
    const handlers = new Set(functions.map((f) => f.handler).filter(Boolean));
    expect([...handlers].sort()).toEqual(expect.arrayContaining(['health-gate/handler.ts#onEvent', 'health-gate/handler.ts#isComplete', 'smoke/handler.ts#onEvent']));
  });

  it('may make every AWS call their code can make: granted to the role, within the boundary', async () => {
    const refused: string[] = [];
    for (const f of functions.filter((x) => x.handler)) {
      for (const action of actionsOf(f.handler!)) {
        if (CONDITIONAL_CALLS.some((c) => c.action === action && !c.made(f.stack))) continue;
        const grants = f.role.grants.filter((g) => g.action.toLowerCase() === action.toLowerCase());
        if (!grants.length) refused.push(`${f.shape} ${f.stack.name} ${f.logicalId} (${f.handler}): ${action} is called but ${f.role.logicalId} is not granted it`);
        for (const g of grants) {
          const decision = await decide({ identity: [identityOf(f.role)], boundary: f.boundary }, { principal: f.role.arn, action, resource: g.resource, context: { 'aws:RequestedRegion': f.stack.region } });
          if (decision !== 'Allowed') refused.push(`${f.shape} ${f.stack.name} ${f.logicalId}: ${action} on ${g.resource} is ${decision}`);
        }
      }
    }
    expect(functions.filter((x) => x.handler).length).toBeGreaterThan(10);
    expect(refused).toEqual([]);
  });

  it('run as roles granted nothing their code does not call, but what the Lambda service needs', () => {
    const byRole = new Map<StackRole, Fn[]>();
    for (const f of functions.filter((x) => x.handler)) byRole.set(f.role, [...(byRole.get(f.role) ?? []), f]);
    const unused: string[] = [];
    for (const [role, fns] of byRole) {
      const calls = new Set(fns.flatMap((f) => actionsOf(f.handler!)).map((a) => a.toLowerCase()));
      for (const g of role.grants) {
        if (calls.has(g.action.toLowerCase()) || FOR_THE_SERVICE.some((s) => s.actions.test(g.action))) continue;
        unused.push(`${fns[0].stack.name} ${role.logicalId}: ${g.action} (${g.from})`);
      }
    }
    expect([...new Set(unused)]).toEqual([]);
  });
});

describe("aws-cdk-lib's provider framework functions", () => {
  it('may invoke the handlers and start the waiter their environment names, within the boundary', async () => {
    const refused: string[] = [];
    const framework = functions.filter((f) => !f.handler && Object.keys(f.environment).some((k) => k.startsWith('USER_')));
    expect(framework.length).toBeGreaterThan(5);
    for (const f of framework) {
      const arns = new Arns(f.stack);
      const calls: [string, string][] = Object.entries(f.environment).flatMap(([k, v]): [string, string][] => {
        if (/^USER_(ON_EVENT|IS_COMPLETE)_FUNCTION_ARN$/.test(k)) return [['lambda:InvokeFunction', arns.resolve(v)]];
        if (k === 'WAITER_STATE_MACHINE_ARN') return [['states:StartExecution', arns.resolve(v)]];
        return [];
      });
      expect(calls.length, f.logicalId).toBeGreaterThan(0);
      for (const [action, resource] of calls) {
        const decision = await decide({ identity: [identityOf(f.role)], boundary: f.boundary }, { principal: f.role.arn, action, resource, context: { 'aws:RequestedRegion': f.stack.region } });
        if (decision !== 'Allowed') refused.push(`${f.shape} ${f.stack.name} ${f.logicalId}: ${action} on ${resource} is ${decision}`);
      }
    }
    expect(refused).toEqual([]);
  });
});
