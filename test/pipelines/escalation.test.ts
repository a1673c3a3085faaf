// Escalation through CloudFormation's execution policy, closed: every role a stack creates carries the
// permissions boundary (iam/permissions-boundary.json) and needs nothing beyond it, and the attacks
// of docs/iam.md's table are refused by the IAM policy simulator, with the boundary in force on the
// role an attacker makes.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { permissionsBoundaryName } from '../../lib/stacks/environment-stack';
import { type Decision, decide, type PolicyDocument } from '../helpers/iam-simulator';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import type { Stack } from './cloudformation-requests';
import { renderPolicy } from './iam-policy';
import { stacksOf } from './shapes';
import { type StackRole, stackRoles } from './stack-roles';

const { app } = cdkContext();
const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const values = { ACCOUNT_ID: ACCOUNT, REGION, APP: app };
const execution = renderPolicy(REPO_ROOT, 'cloudformation-execution-policy.json', values) as unknown as PolicyDocument;
const boundary = renderPolicy(REPO_ROOT, 'permissions-boundary.json', values) as unknown as PolicyDocument;
const BOUNDARY_ARN = `arn:aws:iam::${ACCOUNT}:policy/${permissionsBoundaryName(app)}`;
const EXEC_ROLE = `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const ADMIN: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

interface Attack {
  /** The row of docs/iam.md's table, word for word. */
  readonly attempt: string;
  /** Who tries: CloudFormation's execution role, or a role the attacker made with the boundary and `*:*`. */
  readonly as: 'execution role' | 'boundaried role with *:*';
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
  /** By a Deny of the execution policy, or for want of any grant (of the policy, or of the boundary). */
  readonly refused: 'ExplicitlyDenied' | 'ImplicitlyDenied';
}

/** The attacks a template deployed through the execution role could make, each of which must be refused. */
const ATTACKS: readonly Attack[] = [
  { attempt: 'create a role without the boundary', as: 'execution role', action: 'iam:CreateRole', resource: role(`${app}-escalate`), refused: 'ExplicitlyDenied' },
  { attempt: 'create a role with another boundary', as: 'execution role', action: 'iam:CreateRole', resource: role(`${app}-escalate`), context: { 'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/wide-open` }, refused: 'ExplicitlyDenied' },
  { attempt: 'put an inline policy on a role without the boundary', as: 'execution role', action: 'iam:PutRolePolicy', resource: role(`${app}-legacy`), refused: 'ExplicitlyDenied' },
  { attempt: 'change the trust of a role without the boundary', as: 'execution role', action: 'iam:UpdateAssumeRolePolicy', resource: role(`${app}-legacy`), refused: 'ExplicitlyDenied' },
  { attempt: 'attach AdministratorAccess to a boundaried role', as: 'execution role', action: 'iam:AttachRolePolicy', resource: role(`${app}-escalate`), context: { 'iam:PermissionsBoundary': BOUNDARY_ARN, 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' }, refused: 'ImplicitlyDenied' },
  { attempt: "remove a role's boundary", as: 'execution role', action: 'iam:DeleteRolePermissionsBoundary', resource: role(`${app}-escalate`), context: { 'iam:PermissionsBoundary': BOUNDARY_ARN }, refused: 'ExplicitlyDenied' },
  { attempt: "replace a role's boundary with another", as: 'execution role', action: 'iam:PutRolePermissionsBoundary', resource: role(`${app}-escalate`), context: { 'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/wide-open` }, refused: 'ExplicitlyDenied' },
  { attempt: 'rewrite the boundary policy', as: 'execution role', action: 'iam:CreatePolicyVersion', resource: BOUNDARY_ARN, refused: 'ExplicitlyDenied' },
  { attempt: 'make another version of the boundary its default', as: 'execution role', action: 'iam:SetDefaultPolicyVersion', resource: BOUNDARY_ARN, refused: 'ExplicitlyDenied' },
  { attempt: "pass a role that is not the app's to EC2", as: 'execution role', action: 'iam:PassRole', resource: role('OrganizationAccountAccessRole'), context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, refused: 'ImplicitlyDenied' },
  { attempt: "pass the app's role to a service greenlight does not use", as: 'execution role', action: 'iam:PassRole', resource: role(`${app}-staging-InstanceRole-ABC`), context: { 'iam:PassedToService': 'codebuild.amazonaws.com' }, refused: 'ImplicitlyDenied' },
  { attempt: 'as the new role: create an IAM user', as: 'boundaried role with *:*', action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/backdoor`, refused: 'ImplicitlyDenied' },
  { attempt: 'as the new role: read an object of another bucket', as: 'boundaried role with *:*', action: 's3:GetObject', resource: 'arn:aws:s3:::payroll-exports/2026/12.csv', refused: 'ImplicitlyDenied' },
  { attempt: "as the new role: read another app's parameters", as: 'boundaried role with *:*', action: 'ssm:GetParameter', resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/payments/db-password`, refused: 'ImplicitlyDenied' },
  { attempt: 'as the new role: assume another role', as: 'boundaried role with *:*', action: 'sts:AssumeRole', resource: role('OrganizationAccountAccessRole'), refused: 'ImplicitlyDenied' },
  { attempt: 'as the new role: create a role', as: 'boundaried role with *:*', action: 'iam:CreateRole', resource: role(`${app}-second`), context: { 'iam:PermissionsBoundary': BOUNDARY_ARN }, refused: 'ImplicitlyDenied' },
];

const attempt = (a: Attack): Promise<Decision> =>
  a.as === 'execution role'
    ? decide({ identity: [execution] }, { principal: EXEC_ROLE, action: a.action, resource: a.resource, context: { 'aws:RequestedRegion': REGION, ...a.context } })
    : decide({ identity: [ADMIN], boundary }, { principal: role(`${app}-escalate`), action: a.action, resource: a.resource, context: { 'aws:RequestedRegion': REGION, ...a.context } });

describe('the attacks of docs/iam.md', () => {
  const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'iam.md'), 'utf8');

  it.each(ATTACKS.map((a) => [a.attempt, a] as const))('%s: refused', async (_attempt, a) => {
    expect(await attempt(a)).toBe(a.refused);
    expect(doc, 'docs/iam.md shows the attack').toContain(`| ${a.attempt} |`);
  });

  it('refuses them for the boundary, not for want of any grant: the same calls within it are allowed', async () => {
    const ask = (as: Attack['as'], action: string, resource: string, context: Record<string, string> = {}) => attempt({ attempt: '', as, action, resource, context, refused: 'ImplicitlyDenied' });
    expect(await ask('execution role', 'iam:CreateRole', role(`${app}-escalate`), { 'iam:PermissionsBoundary': BOUNDARY_ARN })).toBe('Allowed');
    expect(await ask('execution role', 'iam:PutRolePolicy', role(`${app}-escalate`), { 'iam:PermissionsBoundary': BOUNDARY_ARN })).toBe('Allowed');
    expect(await ask('execution role', 'iam:PutRolePermissionsBoundary', role(`${app}-legacy`), { 'iam:PermissionsBoundary': BOUNDARY_ARN })).toBe('Allowed');
    expect(await ask('execution role', 'iam:PassRole', role(`${app}-staging-InstanceRole-ABC`), { 'iam:PassedToService': 'ec2.amazonaws.com' })).toBe('Allowed');
    expect(await ask('boundaried role with *:*', 'ssm:GetParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/greenlight/${app}/staging/live-release`)).toBe('Allowed');
    // Without the boundary, the admin policy would have allowed every attack made as the new role.
    for (const a of ATTACKS.filter((x) => x.as !== 'execution role')) {
      expect(await decide({ identity: [ADMIN] }, { principal: role(`${app}-escalate`), action: a.action, resource: a.resource, context: { ...a.context } }), a.attempt).toBe('Allowed');
    }
  });
});

describe('the permissions boundary on every role of every shape', () => {
  const roles: [string, Stack, StackRole][] = [];
  beforeAll(async () => {
    for (const shape of ['every environment, r1', 'staging, r2 with r1 standing by', 'staging, a bake with alarms'] as const) {
      for (const stack of stacksOf(shape)) for (const r of await stackRoles(stack)) roles.push([shape, stack, r]);
    }
  });

  it('is on every role the stack creates, aws-cdk-lib\'s own included', () => {
    expect(roles.length).toBeGreaterThan(20);
    for (const [shape, stack, r] of roles) expect(r.boundary, `${shape} ${stack.name} ${r.logicalId}`).toBe(`arn:aws:iam::${stack.account}:policy/${permissionsBoundaryName(app)}`);
  });

  /** The grants the boundary (or a copy without one statement) cuts. */
  const cutBy = async (without?: string): Promise<string[]> => {
    const cut: string[] = [];
    for (const [shape, stack, r] of roles) {
      const bound = renderPolicy(REPO_ROOT, 'permissions-boundary.json', { ACCOUNT_ID: stack.account, REGION: stack.region, APP: app }) as unknown as PolicyDocument;
      const tried = { ...bound, Statement: bound.Statement.filter((s) => s.Sid !== without) };
      for (const g of r.grants) {
        const decision = await decide({ identity: [ADMIN], boundary: tried }, { principal: r.arn, action: g.action, resource: g.resource, context: { 'aws:RequestedRegion': stack.region } });
        if (decision !== 'Allowed') cut.push(`${shape} ${stack.name} ${r.logicalId}: ${g.action} on ${g.resource} (${g.from})`);
      }
    }
    return cut;
  };

  it("cuts nothing a role is granted: each grant, within the role's account and region, is allowed through the boundary", async () => {
    expect(roles.reduce((n, [, , r]) => n + r.grants.length, 0)).toBeGreaterThan(100);
    expect(await cutBy()).toEqual([]);
  });

  it('holds nothing no role needs: without any one of its statements, some grant is cut', async () => {
    for (const s of boundary.Statement) expect((await cutBy(s.Sid as string)).length, `${s.Sid as string} is needed`).toBeGreaterThan(0);
  });
});

describe("what cdk bootstrap's deploy role still reaches", () => {
  it("is what docs/iam.md's table lists: the execution policy's statements whose resources are not the app's", () => {
    const raw = JSON.parse(readFileSync(path.join(REPO_ROOT, 'iam', 'cloudformation-execution-policy.json'), 'utf8')) as { Statement: { Sid: string; Effect: string; Resource: string | string[] }[] };
    // The app's: named `<APP>-…` or under /greenlight/<APP>/, or CDK's own bootstrap resources of the account.
    const theApps = (r: string) => r.includes('<APP>') || /cdk-hnb659fds-assets-|parameter\/cdk-bootstrap\//.test(r);
    const reaching = raw.Statement.filter((s) => s.Effect === 'Allow' && ![s.Resource].flat().every(theApps)).map((s) => s.Sid);
    const doc = readFileSync(path.join(REPO_ROOT, 'docs', 'iam.md'), 'utf8');
    const section = doc.slice(doc.indexOf("### What cdk bootstrap's deploy role still reaches"), doc.indexOf("## CloudFormation's execution policy"));
    const listed = [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(reaching.sort());
  });
});
