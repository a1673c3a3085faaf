// iam/: the pipelines' role policies, OIDC trust policies and cdk bootstrap's execution policy. Parsed,
// checked for broad grants, then rendered for cdk.json's environments and asked what they allow:
// the SSM paths greenlight uses, and the traced calls of a bake rerun, of a cross-account publish and
// of a rollback to the standby, whose calls are read from the rollback command's code.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  amiParameterName,
  bakeProgressParameterName,
  configPrefix,
  gateProgressParameterName,
  liveReleaseParameterName,
  schemaRecordParameterName,
  smokeResultParameterName,
} from '../../lib/ssm-paths';
import { actionResourceTypes, decide, type PolicyDocument } from '../helpers/iam-simulator';
import { sdkActionsReachedFrom } from '../helpers/sdk-calls';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import { presented } from './cloudformation-requests';
import { allows, type Context, grantsIgnoringConditions, iamFiles, list, type Policy, rawPolicy, renderPolicy } from './iam-policy';

const files = iamFiles(REPO_ROOT);
const parsed = (file: string): Policy => JSON.parse(rawPolicy(REPO_ROOT, file)) as Policy;
const isDescribeOnly = (action: string) => /^[a-z0-9-]+:(Describe|Get|List)[A-Za-z]*$/.test(action);
const TAG_KEY = /^(aws:RequestTag\/|aws:ResourceTag\/|aws:TagKeys$|ec2:ResourceTag\/)/;
const conditionKeys = (s: { Condition?: Record<string, Record<string, unknown>> }) => Object.values(s.Condition ?? {}).flatMap((c) => Object.keys(c));

/** docs/iam.md: where placeholders and broad grants are explained. */
const iamDoc = readFileSync(path.join(REPO_ROOT, 'docs', 'iam.md'), 'utf8');

const RELEASE = '2026.11.22-3f9c2ab';
const ssmArn = (region: string, account: string, name: string) => `arn:aws:ssm:${region}:${account}:parameter${name}`;
const environments = Object.entries(cdkContext().environments);
let rollbackCallsRead: string[] | undefined;
/** The IAM actions of the SDK calls `greenlight rollback` can reach, read once from its code. */
const rollbackCalls = (): string[] => (rollbackCallsRead ??= sdkActionsReachedFrom(REPO_ROOT, 'lib/cli/rollback.ts', 'rollbackCommand'));
const { app } = cdkContext();

// The bake account and region of the traces below, and the values docs/iam.md tells a team to fill in.
const BAKE = { ACCOUNT_ID: '111111111111', REGION: 'eu-west-1', APP: app, BAKE_VPC_ID: 'vpc-0bake', AMI_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab' };

describe('iam/ documents', () => {
  it('ships a policy per role, a trust policy per role and CI system, and the execution policy for cdk bootstrap', () => {
    expect(files).toEqual([
      'bake-role-policy.json',
      'circleci-oidc-trust-bake.json',
      'circleci-oidc-trust-deploy-production.json',
      'circleci-oidc-trust-deploy.json',
      'circleci-oidc-trust-preview.json',
      'cloudformation-execution-policy.json',
      'deploy-role-policy.json',
      'github-oidc-trust-bake.json',
      'github-oidc-trust-deploy.json',
      'github-oidc-trust-preview.json',
      'permissions-boundary.json',
      'preview-role-policy.json',
    ]);
  });

  it.each(files)('%s: every statement is named, an Allow (or a Deny of the execution policy docs/iam.md names), and no action has a wildcard', (file) => {
    const policy = parsed(file);
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement.length).toBeGreaterThan(0);
    const sids = policy.Statement.map((s) => s.Sid);
    expect(new Set(sids).size, `${file}: Sids are unique`).toBe(sids.length);
    for (const s of policy.Statement) {
      expect(s.Sid, file).toMatch(/^[A-Za-z0-9]+$/);
      if (s.Effect === 'Deny') {
        expect(file, `${s.Sid}: only the execution policy denies`).toBe('cloudformation-execution-policy.json');
        expect(iamDoc, `docs/iam.md must name ${s.Sid}`).toContain(`\`${s.Sid}\``);
      } else expect(s.Effect).toBe('Allow');
      expect(Object.keys(s)).not.toContain('NotAction');
      expect(Object.keys(s)).not.toContain('NotResource');
      for (const action of list(s.Action)) expect(action, `${file} ${s.Sid}`).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    }
  });

  it.each(files.filter((f) => !f.includes('trust')))('%s: Resource "*" only for describe-only actions and those that take no resource, in statements docs/iam.md names', async (file) => {
    for (const s of parsed(file).Statement.filter((st) => st.Effect === 'Allow')) {
      const resources = list(s.Resource);
      expect(resources.length, `${file} ${s.Sid} names its resources`).toBeGreaterThan(0);
      for (const r of resources) {
        // A wildcard may stand for ids nobody knows in advance, never for a whole service or account.
        if (r !== '*') expect(r, `${file} ${s.Sid}`).toMatch(/^(arn:aws:[a-z0-9-]+:(<REGION>)?:(<ACCOUNT_ID>)?:[A-Za-z0-9-]+[/:]|<AMI_KMS_KEY_ARN>$|arn:aws:s3:::<APP>-\*(\/\*)?$|arn:aws:s3:::cdk-hnb659fds-assets-<ACCOUNT_ID>-<REGION>\/\*$)/);
      }
      if (!resources.includes('*')) continue;
      const takesNoResource = async (a: string) => (await actionResourceTypes(a)).types.length === 0;
      const others = [];
      for (const a of list(s.Action)) if (!isDescribeOnly(a) && !(await takesNoResource(a))) others.push(a);
      expect(others, `${file} ${s.Sid}`).toEqual([]);
      expect(iamDoc, `docs/iam.md must name ${s.Sid}`).toContain(`\`${s.Sid}\``);
    }
  });

  it('explains every placeholder in docs/iam.md', () => {
    const placeholders = new Set(files.flatMap((f) => [...rawPolicy(REPO_ROOT, f).matchAll(/<([A-Z_]+)>/g)].map((m) => m[0])));
    expect([...placeholders].sort()).toEqual([
      '<ACCOUNT_ID>', '<AMI_KMS_KEY_ARN>', '<APP>', '<BAKE_VPC_ID>', '<CIRCLECI_ORG_ID>', '<CIRCLECI_PRODUCTION_PROJECT_ID>', '<CIRCLECI_PROJECT_ID>', '<ENV>', '<GITHUB_OWNER>', '<GITHUB_REPO>', '<REGION>', '<VCS_ORIGIN>',
    ]);
    for (const p of placeholders) expect(iamDoc, p).toContain(`\`${p}\``);
  });
});

describe('OIDC trust policies: every sub is pinned', () => {
  const GH = { ACCOUNT_ID: '111111111111', GITHUB_OWNER: 'acme', GITHUB_REPO: 'shop', ENV: 'production' };
  const ORG = '11111111-2222-3333-4444-555555555555';
  const PROJECT = '66666666-7777-8888-9999-000000000000';
  const USER = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
  // Production's project is another in practice (test/pipelines/trust.test.ts); here each file is asked about the project it trusts.
  const CC = { ACCOUNT_ID: '111111111111', CIRCLECI_ORG_ID: ORG, CIRCLECI_PROJECT_ID: PROJECT, CIRCLECI_PRODUCTION_PROJECT_ID: PROJECT, VCS_ORIGIN: 'github.com/acme/shop' };
  const trusts = files.filter((f) => f.includes('-oidc-trust-'));

  it.each(trusts)('%s: one statement, for web identities of one provider, with aud and sub conditions', (file) => {
    const [s, ...rest] = parsed(file).Statement;
    expect(rest).toEqual([]);
    expect(s.Action).toBe('sts:AssumeRoleWithWebIdentity');
    const keys = conditionKeys(s);
    expect(keys.filter((k) => k.endsWith(':aud'))).toHaveLength(1);
    expect(keys.filter((k) => k.endsWith(':sub'))).toHaveLength(1);
    // The only wildcards in a sub: the 36 characters of CircleCI's user UUID, one `?` each, never `*`.
    const subs = Object.values(s.Condition ?? {}).flatMap((c) => Object.entries(c).filter(([k]) => k.endsWith(':sub')).flatMap(([, v]) => list(v)));
    for (const sub of subs) {
      expect(sub).not.toContain('*');
      expect(sub.replace('/user/????????-????-????-????-????????????/', '/user/<uuid>/')).not.toContain('?');
    }
  });

  const assume = (file: string, values: Record<string, string>, context: Context) =>
    allows(renderPolicy(REPO_ROOT, file, values), 'sts:AssumeRoleWithWebIdentity', '', context);

  const ghToken = (sub: string): Context => ({ 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': sub });

  it('GitHub: the bake and preview roles take only jobs on main, a deploy role only jobs in its GitHub environment', () => {
    for (const file of ['github-oidc-trust-bake.json', 'github-oidc-trust-preview.json']) {
      expect(assume(file, GH, ghToken('repo:acme/shop:ref:refs/heads/main')), file).toBe(true);
      for (const other of ['repo:acme/shop:ref:refs/heads/feature', 'repo:acme/shop:ref:refs/heads/main-2', 'repo:acme/shop:pull_request', 'repo:acme/shop:environment:production', 'repo:evil/shop:ref:refs/heads/main']) {
        expect(assume(file, GH, ghToken(other)), `${file} ${other}`).toBe(false);
      }
    }
    expect(assume('github-oidc-trust-deploy.json', GH, ghToken('repo:acme/shop:environment:production'))).toBe(true);
    for (const other of ['repo:acme/shop:environment:staging', 'repo:acme/shop:ref:refs/heads/main', 'repo:acme/shop:environment:production-2', 'repo:acme/shops:environment:production']) {
      expect(assume('github-oidc-trust-deploy.json', GH, ghToken(other)), other).toBe(false);
    }
    expect(assume('github-oidc-trust-deploy.json', GH, { ...ghToken('repo:acme/shop:environment:production'), 'token.actions.githubusercontent.com:aud': 'other' })).toBe(false);
  });

  it.each(trusts.filter((f) => f.startsWith('circleci')))("CircleCI %s: the project's jobs on main, by CIRCLE_OIDC_TOKEN_V2's sub", (file) => {
    const sub = (project: string, user: string, origin: string, ref: string) => `org/${ORG}/project/${project}/user/${user}/vcs-origin/${origin}/vcs-ref/${ref}`;
    const token = (s: string): Context => ({ [`oidc.circleci.com/org/${ORG}:aud`]: ORG, [`oidc.circleci.com/org/${ORG}:sub`]: s });
    const statement = renderPolicy(REPO_ROOT, file, CC).Statement[0];
    expect(statement.Principal?.Federated).toBe(`arn:aws:iam::111111111111:oidc-provider/oidc.circleci.com/org/${ORG}`);
    expect(assume(file, CC, token(sub(PROJECT, USER, 'github.com/acme/shop', 'refs/heads/main')))).toBe(true);
    for (const other of [
      sub(PROJECT, USER, 'github.com/acme/shop', 'refs/heads/feature'),
      sub(PROJECT, USER, 'github.com/acme/shop', 'refs/heads/main/x'),
      sub(PROJECT, USER, 'github.com/fork/shop', 'refs/heads/main'),
      sub('99999999-7777-8888-9999-000000000000', USER, 'github.com/acme/shop', 'refs/heads/main'),
      // The first version of CircleCI's token names no branch at all.
      `org/${ORG}/project/${PROJECT}/user/${USER}`,
      // A "user" that smuggles in another path does not fit the 36 characters of a UUID.
      sub(PROJECT, `${USER}/vcs-origin/github.com/fork/shop/vcs-ref/refs/heads/main/x`, 'github.com/acme/shop', 'refs/heads/main'),
    ]) {
      expect(assume(file, CC, token(other)), other).toBe(false);
    }
  });
});

describe.each(environments)('deploy role for %s', (envName, settings) => {
  const account = String(settings.account);
  const region = String(settings.region);
  const policy = renderPolicy(REPO_ROOT, 'deploy-role-policy.json', { ACCOUNT_ID: account, REGION: region, APP: app, ENV: envName });
  const principal = `arn:aws:iam::${account}:role/greenlight-deploy-${envName}`;
  const can = async (action: string, resource: string, context: Context = {}) =>
    (await decide({ identity: [policy as unknown as PolicyDocument] }, { principal, action, resource, context: await presented(action, { 'aws:RequestedRegion': region, ...context }) })) === 'Allowed';
  const others = environments.map(([name]) => name).filter((name) => name !== envName);
  const stackName = `${app}-${envName}`;
  const group = (name: string, inRegion = region) =>
    `arn:aws:autoscaling:${inRegion}:${account}:autoScalingGroup:0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d:autoScalingGroupName/${name}`;
  // CloudFormation tags every group of a stack with the stack's name.
  const stackTag = (stack: string): Context => ({ 'aws:ResourceTag/aws:cloudformation:stack-name': stack });
  const standbyGroup = group(`${stackName}-FleetGroupr1-ABC`);
  const ASG_WRITES = ['autoscaling:DeleteScheduledAction', 'autoscaling:UpdateAutoScalingGroup'];
  const RECOVER_WRITES = ['cloudformation:ContinueUpdateRollback', 'elasticloadbalancing:ModifyListener'];

  it('may assume the CDK roles that deploy and publish assets, in its own account and region, and not the lookup role', async () => {
    for (const role of ['deploy-role', 'file-publishing-role']) {
      expect(await can('sts:AssumeRole', `arn:aws:iam::${account}:role/cdk-hnb659fds-${role}-${account}-${region}`), role).toBe(true);
    }
    for (const role of ['lookup-role', 'cfn-exec-role', 'image-publishing-role']) {
      expect(await can('sts:AssumeRole', `arn:aws:iam::${account}:role/cdk-hnb659fds-${role}-${account}-${region}`), role).toBe(false);
    }
    expect(await can('sts:AssumeRole', `arn:aws:iam::999999999999:role/cdk-hnb659fds-deploy-role-999999999999-${region}`)).toBe(false);
  });

  it('reads what deploy, watch, rollback, status and the environment URL read', async () => {
    expect(await can('ssm:GetParameter', ssmArn(region, account, gateProgressParameterName(app, envName, RELEASE)))).toBe(true);
    expect(await can('ssm:GetParameterHistory', ssmArn(region, account, liveReleaseParameterName(app, envName)))).toBe(true);
    expect(await can('ssm:GetParameter', ssmArn(region, account, liveReleaseParameterName(app, envName)))).toBe(true);
    expect(await can('ssm:GetParameter', ssmArn(region, account, amiParameterName(app, RELEASE)))).toBe(true);
    const stack = `arn:aws:cloudformation:${region}:${account}:stack/${app}-${envName}/abc`;
    for (const action of ['cloudformation:DescribeStackEvents', 'cloudformation:DescribeStacks', 'cloudformation:GetTemplate']) expect(await can(action, stack), action).toBe(true);
    for (const action of ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScalingActivities', 'elasticloadbalancing:DescribeTargetHealth']) {
      expect(await can(action, '*'), action).toBe(true);
      expect(await can(action, '*', { 'aws:RequestedRegion': 'us-east-1' }), `${action} elsewhere`).toBe(false);
    }
  });

  it("writes only a release AMI's parameter and, for a rollback, its own stack's groups; reads no other environment", async () => {
    const writes = policy.Statement.flatMap((s) => list(s.Action)).filter((a) => !isDescribeOnly(a));
    expect(writes).toEqual(['sts:AssumeRole', ...RECOVER_WRITES, 'ssm:PutParameter', 'ssm:PutParameter', ...ASG_WRITES]);
    expect(await can('ssm:PutParameter', ssmArn(region, account, amiParameterName(app, RELEASE)))).toBe(true);
    // The deploy's migration check, which a rollback reads: its own environment's record only.
    expect(await can('ssm:PutParameter', ssmArn(region, account, schemaRecordParameterName(app, envName)))).toBe(true);
    for (const other of others) expect(await can('ssm:PutParameter', ssmArn(region, account, schemaRecordParameterName(app, other)))).toBe(false);
    expect(await can('ssm:PutParameter', ssmArn(region, account, liveReleaseParameterName(app, envName)))).toBe(false);
    expect(await can('ssm:PutParameter', ssmArn(region, account, gateProgressParameterName(app, envName, 'r1')))).toBe(false);
    expect(await can('ssm:PutParameter', ssmArn(region, account, amiParameterName('another-app', 'r1')))).toBe(false);
    expect(await can('ssm:GetParametersByPath', ssmArn(region, account, configPrefix(app, envName)))).toBe(false);
    for (const other of others) {
      expect(await can('ssm:GetParameterHistory', ssmArn(region, account, liveReleaseParameterName(app, other)))).toBe(false);
      expect(await can('ssm:GetParameter', ssmArn(region, account, gateProgressParameterName(app, other, 'r1')))).toBe(false);
      expect(await can('cloudformation:DescribeStacks', `arn:aws:cloudformation:${region}:${account}:stack/${app}-${other}/abc`)).toBe(false);
    }
  });

  it('recover: continues only its own stack\'s rollback, and moves only a listener CloudFormation tagged for its own stack', async () => {
    const stack = (name: string, r = region) => `arn:aws:cloudformation:${r}:${account}:stack/${name}/abc`;
    expect(await can('cloudformation:ContinueUpdateRollback', stack(stackName))).toBe(true);
    expect(await can('cloudformation:ListStackResources', stack(stackName))).toBe(true);
    expect(await can('cloudformation:ContinueUpdateRollback', stack(stackName, 'us-east-1')), 'another region').toBe(false);
    for (const other of others) expect(await can('cloudformation:ContinueUpdateRollback', stack(`${app}-${other}`)), other).toBe(false);
    const listener = (r = region) => `arn:aws:elasticloadbalancing:${r}:${account}:listener/app/${stackName.slice(0, 8)}-Alb-ABC/50dc6c495c0c9188/f2f7dc8efc522ab2`;
    expect(await can('elasticloadbalancing:ModifyListener', listener(), stackTag(stackName))).toBe(true);
    expect(await can('elasticloadbalancing:ModifyListener', listener()), 'without the stack\'s tag').toBe(false);
    expect(await can('elasticloadbalancing:ModifyListener', listener('us-east-1'), stackTag(stackName)), 'another region').toBe(false);
    for (const other of others) expect(await can('elasticloadbalancing:ModifyListener', listener(), stackTag(`${app}-${other}`)), other).toBe(false);
  });

  it("changes Auto Scaling groups only by name and by CloudFormation's tag of its own stack, never on '*'", async () => {
    const statements = policy.Statement.filter((s) => list(s.Action).some((a) => a.startsWith('autoscaling:') && !isDescribeOnly(a)));
    expect(statements.flatMap((s) => list(s.Action))).toEqual(ASG_WRITES);
    for (const s of statements) {
      expect(list(s.Resource), s.Sid).toEqual([`arn:aws:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${stackName}-*`]);
      expect(s.Condition, s.Sid).toEqual({ StringEquals: { 'aws:ResourceTag/aws:cloudformation:stack-name': stackName } });
    }
    for (const action of ASG_WRITES) {
      expect(await can(action, standbyGroup, stackTag(stackName)), action).toBe(true);
      expect(await can(action, standbyGroup), `${action} without the stack's tag`).toBe(false);
      expect(await can(action, standbyGroup, stackTag(`${stackName}-2`)), `${action} tagged for another stack`).toBe(false);
      expect(await can(action, group(`another-app-${envName}-FleetGroup-ABC`), stackTag(stackName)), `${action} another app`).toBe(false);
      expect(await can(action, group(`${stackName}-FleetGroupr1-ABC`, 'us-east-1'), stackTag(stackName)), `${action} another region`).toBe(false);
      for (const other of others) {
        expect(await can(action, group(`${app}-${other}-FleetGroup-ABC`), stackTag(`${app}-${other}`)), `${action} ${other}`).toBe(false);
      }
    }
    for (const action of ['autoscaling:CreateAutoScalingGroup', 'autoscaling:DeleteAutoScalingGroup', 'autoscaling:SetDesiredCapacity', 'autoscaling:SuspendProcesses', 'autoscaling:PutScheduledUpdateGroupAction', 'autoscaling:CreateOrUpdateTags', 'autoscaling:TerminateInstanceInAutoScalingGroup']) {
      expect(grantsIgnoringConditions(policy, action, standbyGroup), action).toEqual([]);
    }
  });

  // docs/iam-traces.md, "A rollback to the standby": every call `greenlight rollback` and its cdk deploy make, in order.
  const cdkRole = (role: string) => `arn:aws:iam::${account}:role/cdk-hnb659fds-${role}-${account}-${region}`;
  const rollbackTrace = (scaleUp: boolean): [string, string, Context][] => [
    ['ssm:GetParameterHistory', ssmArn(region, account, liveReleaseParameterName(app, envName)), {}],
    ['ssm:GetParameter', ssmArn(region, account, schemaRecordParameterName(app, envName)), {}],
    ['ssm:GetParameter', ssmArn(region, account, amiParameterName(app, RELEASE)), {}],
    // The standby: the stack's newest group of another release, and its scheduled scale-to-zero.
    ['autoscaling:DescribeAutoScalingGroups', '*', {}],
    ['autoscaling:DescribePolicies', '*', {}],
    ['autoscaling:DescribeScheduledActions', '*', {}],
    ['autoscaling:DescribeScalingActivities', '*', {}],
    // The live fleet's size, which a standby scaled up matches.
    ['autoscaling:DescribeAutoScalingGroups', '*', {}],
    ['autoscaling:DeleteScheduledAction', standbyGroup, stackTag(stackName)],
    ...(scaleUp ? [['autoscaling:UpdateAutoScalingGroup', standbyGroup, stackTag(stackName)] as [string, string, Context]] : []),
    // The preflight, before cdk deploy: the AMI, the live group, the subnets, the load balancer's room and its serving listener, the vCPU quota.
    ['ssm:GetParameter', ssmArn(region, account, liveReleaseParameterName(app, envName)), {}],
    ['ec2:DescribeImages', '*', {}],
    ['ec2:DescribeSubnets', '*', {}],
    ['ec2:DescribeInstances', '*', {}],
    ['ec2:DescribeInstanceTypes', '*', {}],
    ['servicequotas:GetServiceQuota', `arn:aws:servicequotas:${region}:${account}:ec2/L-1216C47A`, {}],
    ['elasticloadbalancing:DescribeAccountLimits', '*', {}],
    ['elasticloadbalancing:DescribeTargetGroups', '*', {}],
    ['elasticloadbalancing:DescribeListeners', '*', {}],
    ['elasticloadbalancing:DescribeRules', '*', {}],
    ['sts:AssumeRole', cdkRole('file-publishing-role'), {}],
    ['sts:AssumeRole', cdkRole('deploy-role'), {}],
    ['ssm:GetParameter', ssmArn(region, account, gateProgressParameterName(app, envName, RELEASE)), {}],
    ['ssm:GetParameter', ssmArn(region, account, smokeResultParameterName(app, envName, RELEASE)), {}],
    ['ssm:GetParameter', ssmArn(region, account, bakeProgressParameterName(app, envName, RELEASE)), {}],
  ];

  it.each([
    ['within the window: the scale-to-zero comes off, then the switch', false],
    ['with the standby scaled up first', true],
  ])('traces a rollback to the standby %s', async (_way, scaleUp) => {
    for (const [action, resource, context] of rollbackTrace(scaleUp)) {
      expect(await can(action, resource, context), `${action} ${resource}`).toBe(true);
    }
  });

  it('grants every AWS call the rollback command can make, as read from its code, and traces each', async () => {
    const calls = rollbackCalls();
    // The reading follows the command into lib/aws/, function by function: it finds the standby's
    // writes, and not the scaling hold's, whose functions share the module.
    expect(calls).toEqual(expect.arrayContaining(['ssm:GetParameterHistory', ...ASG_WRITES]));
    expect(calls).not.toContain('autoscaling:SuspendProcesses');
    expect(calls.filter((a) => !policy.Statement.some((s) => list(s.Action).includes(a))), 'called but never granted').toEqual([]);
    const traced = new Set(rollbackTrace(true).map(([action]) => action));
    expect(calls.filter((a) => !traced.has(a)), 'called but missing from the trace').toEqual([]);
  });

  // docs/iam-traces.md, "Cross-account publish": the deploy job records the shared AMI in its own account.
  it('traces a cross-account publish: read, create (SSM checks the AMI as the caller), read back', async () => {
    const parameter = ssmArn(region, account, amiParameterName(app, RELEASE));
    expect(await can('ssm:GetParameter', parameter)).toBe(true);
    expect(await can('ssm:PutParameter', parameter)).toBe(true);
    expect(await can('ec2:DescribeImages', '*')).toBe(true);
    expect(await can('ssm:GetParameter', parameter)).toBe(true);
  });
});

describe('preview role', () => {
  it.each(environments)("reads %s's stack template for cdk diff, and nothing else", (envName, settings) => {
    const account = String(settings.account);
    const region = String(settings.region);
    const policy = renderPolicy(REPO_ROOT, 'preview-role-policy.json', { ACCOUNT_ID: account, REGION: region, APP: app, ENV: envName });
    const stack = (env: string) => `arn:aws:cloudformation:${region}:${account}:stack/${app}-${env}/abc`;
    expect(allows(policy, 'cloudformation:GetTemplate', stack(envName))).toBe(true);
    expect(allows(policy, 'cloudformation:DescribeStacks', stack(envName))).toBe(true);
    expect(allows(policy, 'cloudformation:GetTemplate', stack(`${envName}x`))).toBe(false);
    expect(policy.Statement.flatMap((s) => list(s.Action)).filter((a) => !isDescribeOnly(a))).toEqual([]);
  });
});

describe('bake role', () => {
  const policy = renderPolicy(REPO_ROOT, 'bake-role-policy.json', BAKE);
  const ec2 = (type: string, id: string) => (['image', 'snapshot'].includes(type) ? `arn:aws:ec2:eu-west-1::${type}/${id}` : `arn:aws:ec2:eu-west-1:111111111111:${type}/${id}`);
  const packerTag = { 'aws:ResourceTag/greenlight:packer': app };
  const createTags = { 'aws:RequestTag/greenlight:packer': app, 'aws:RequestTag/greenlight:app': app, 'aws:TagKeys': ['Name', 'greenlight:app', 'greenlight:packer', 'greenlight:release'] };
  // A key's own policy must let the account's IAM policies grant it; KMS's default key policy does.
  const defaultKeyPolicy: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'kms:*', Resource: '*' }],
  };
  const can = async (action: string, resource: string, context: Context = {}, only: Policy = policy) =>
    (await decide(
      { identity: [only as unknown as PolicyDocument] },
      { principal: 'arn:aws:iam::111111111111:role/greenlight-bake', action, resource, context: await presented(action, context) },
      action.startsWith('kms:') ? defaultKeyPolicy : undefined,
    )) === 'Allowed';
  const mutating = (a: string) => a.startsWith('ec2:') && !isDescribeOnly(a);

  it('conditions every mutating EC2 action on a tag, except launching from the base image into the bake VPC', async () => {
    const actions = [...new Set(policy.Statement.flatMap((s) => list(s.Action)).filter(mutating))];
    expect(actions.length).toBeGreaterThan(10);
    for (const action of actions) {
      const statements = policy.Statement.filter((s) => list(s.Action).includes(action));
      expect(statements.some((s) => conditionKeys(s).some((k) => TAG_KEY.test(k))), `${action} has a tag-conditioned grant`).toBe(true);
      for (const s of statements) {
        const tagged = conditionKeys(s).some((k) => TAG_KEY.test(k));
        const pinned = list(s.Resource).every((r) => !r.includes('*'));
        const referenced = ['LaunchFromDebiansImage', 'LaunchIntoTheBakeVpc'].includes(s.Sid ?? '');
        expect(tagged || pinned || referenced, `${s.Sid} grants ${action}`).toBe(true);
        if (referenced) {
          expect(s.Condition, s.Sid).toBeDefined();
          expect(iamDoc, `docs/iam.md must explain ${s.Sid}`).toContain(`\`${s.Sid}\``);
        }
      }
    }
  });

  it('cannot tag its way into a mutation: the tag that authorises changes is set only when a resource is created', async () => {
    // Packer's labels on the finished image and its snapshots: allowed, as they cannot carry greenlight:packer.
    const labels = { 'aws:RequestTag/greenlight:app': app, 'aws:TagKeys': ['Name', 'greenlight:app', 'greenlight:release', 'greenlight:git-sha', 'greenlight:built'] };
    expect(await can('ec2:CreateTags', ec2('snapshot', 'snap-0final'), labels)).toBe(true);
    // Adding greenlight:packer to someone else's snapshot, instance or image afterwards: refused.
    for (const [type, id] of [['snapshot', 'snap-0other'], ['instance', 'i-0other'], ['image', 'ami-0other'], ['volume', 'vol-0other']]) {
      expect(await can('ec2:CreateTags', ec2(type, id), createTags), `${type}`).toBe(false);
    }
    // And without that tag, nothing of someone else's can be changed.
    for (const [action, type] of [
      ['ec2:TerminateInstances', 'instance'],
      ['ec2:StopInstances', 'instance'],
      ['ec2:DeleteSnapshot', 'snapshot'],
      ['ec2:DeregisterImage', 'image'],
      ['ec2:ModifyImageAttribute', 'image'],
      ['ec2:AuthorizeSecurityGroupIngress', 'security-group'],
      ['ec2:DeleteSecurityGroup', 'security-group'],
    ]) {
      expect(await can(action, ec2(type, 'x-0other'), { 'aws:ResourceTag/greenlight:app': app }), action).toBe(false);
      expect(await can(action, ec2(type, 'x-0other'), { 'aws:ResourceTag/greenlight:packer': 'another-app' }), action).toBe(false);
    }
    expect(await can('ec2:ModifySnapshotAttribute', ec2('snapshot', 'snap-0'), packerTag)).toBe(false);
    expect(await can('ec2:CreateVolume', ec2('volume', 'vol-0'), createTags)).toBe(false);
  });

  it('launches only from Debian’s image, only into the bake VPC', async () => {
    const launch = { ...createTags, 'aws:ResourceTag/greenlight:packer': app };
    expect(await can('ec2:RunInstances', ec2('image', 'ami-0debian'), { 'ec2:Owner': '136693071363' })).toBe(true);
    expect(await can('ec2:RunInstances', ec2('image', 'ami-0other'), { 'ec2:Owner': '999999999999' })).toBe(false);
    expect(await can('ec2:RunInstances', ec2('subnet', 'subnet-0a'), { 'ec2:Vpc': 'arn:aws:ec2:eu-west-1:111111111111:vpc/vpc-0bake' })).toBe(true);
    expect(await can('ec2:RunInstances', ec2('subnet', 'subnet-0b'), { 'ec2:Vpc': 'arn:aws:ec2:eu-west-1:111111111111:vpc/vpc-0prod' })).toBe(false);
    expect(await can('ec2:RunInstances', ec2('instance', '*'), launch)).toBe(true);
    expect(await can('ec2:RunInstances', ec2('instance', '*'), { 'aws:RequestTag/greenlight:packer': 'another-app' })).toBe(false);
    expect(await can('ec2:RunInstances', 'arn:aws:ec2:us-east-1:111111111111:instance/*', launch)).toBe(false);
  });

  it('uses only the named KMS key, and lets only AWS services hold grants on it', async () => {
    for (const action of ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey']) {
      expect(await can(action, BAKE.AMI_KMS_KEY_ARN), action).toBe(true);
      expect(await can(action, 'arn:aws:kms:eu-west-1:111111111111:key/other'), action).toBe(false);
    }
    expect(await can('kms:CreateGrant', BAKE.AMI_KMS_KEY_ARN, { 'kms:GrantIsForAWSResource': 'true' })).toBe(true);
    expect(await can('kms:CreateGrant', BAKE.AMI_KMS_KEY_ARN, { 'kms:GrantIsForAWSResource': 'false' })).toBe(false);
    expect(await can('kms:ScheduleKeyDeletion', BAKE.AMI_KMS_KEY_ARN)).toBe(false);
  });

  it('records the release AMI and nothing else in SSM; no CloudFormation, no other role', async () => {
    expect(await can('ssm:PutParameter', ssmArn('eu-west-1', '111111111111', amiParameterName(app, RELEASE)))).toBe(true);
    expect(await can('ssm:PutParameter', ssmArn('eu-west-1', '111111111111', liveReleaseParameterName(app, 'production')))).toBe(false);
    expect(await can('ssm:PutParameter', ssmArn('eu-west-1', '111111111111', amiParameterName('another-app', 'r1')))).toBe(false);
    expect(policy.Statement.flatMap((s) => list(s.Action)).filter((a) => /^(cloudformation|sts|iam):/.test(a))).toEqual([]);
  });

  // docs/iam-traces.md, "A bake rerun of the same release": every call Packer and greenlight make, in order.
  // Every call Packer and greenlight make in a bake with encrypt_boot, ami_users and a customer managed key, then its rerun.
  const run: [string, string, Context][] = [
    ['ec2:DescribeImages', '*', {}],
    ['ec2:CreateKeyPair', ec2('key-pair', 'packer_1'), createTags],
    ['ec2:CreateTags', ec2('key-pair', 'packer_1'), { ...createTags, 'ec2:CreateAction': 'CreateKeyPair' }],
    ['ec2:CreateSecurityGroup', ec2('security-group', '*'), createTags],
    ['ec2:CreateSecurityGroup', 'arn:aws:ec2:eu-west-1:111111111111:vpc/vpc-0bake', createTags],
    ['ec2:CreateTags', ec2('security-group', 'sg-0build'), { ...createTags, 'ec2:CreateAction': 'CreateSecurityGroup' }],
    ['ec2:AuthorizeSecurityGroupIngress', ec2('security-group', 'sg-0build'), packerTag],
    ['ec2:RunInstances', ec2('instance', '*'), createTags],
    ['ec2:RunInstances', ec2('volume', '*'), createTags],
    ['ec2:RunInstances', ec2('network-interface', '*'), createTags],
    ['ec2:RunInstances', ec2('image', 'ami-0debian'), { 'ec2:Owner': '136693071363' }],
    ['ec2:RunInstances', ec2('subnet', 'subnet-0a'), { 'ec2:Vpc': 'arn:aws:ec2:eu-west-1:111111111111:vpc/vpc-0bake' }],
    ['ec2:RunInstances', ec2('key-pair', 'packer_1'), packerTag],
    ['ec2:RunInstances', ec2('security-group', 'sg-0build'), packerTag],
    ['ec2:CreateTags', ec2('instance', 'i-0build'), { ...createTags, 'ec2:CreateAction': 'RunInstances' }],
    ['kms:CreateGrant', BAKE.AMI_KMS_KEY_ARN, { 'kms:GrantIsForAWSResource': 'true' }],
    ['kms:GenerateDataKeyWithoutPlaintext', BAKE.AMI_KMS_KEY_ARN, {}],
    ['kms:Decrypt', BAKE.AMI_KMS_KEY_ARN, {}],
    ['ec2:StopInstances', ec2('instance', 'i-0build'), packerTag],
    ['ec2:CreateImage', ec2('instance', 'i-0build'), packerTag],
    ['ec2:CreateImage', ec2('image', '*'), createTags],
    ['ec2:CreateImage', ec2('snapshot', '*'), createTags],
    ['ec2:CreateTags', ec2('image', 'ami-0temp'), { ...createTags, 'ec2:CreateAction': 'CreateImage' }],
    ['ec2:CreateTags', ec2('snapshot', 'snap-0temp'), { ...createTags, 'ec2:CreateAction': 'CreateImage' }],
    // encrypt_boot: Packer copies the temporary image under the key (copying its tags), then deletes it.
    ['ec2:CopyImage', ec2('image', 'ami-0temp'), packerTag],
    ['ec2:CopyImage', ec2('image', '*'), {}],
    ['ec2:CopyImage', ec2('snapshot', '*'), {}],
    ['kms:ReEncryptFrom', BAKE.AMI_KMS_KEY_ARN, {}],
    ['kms:ReEncryptTo', BAKE.AMI_KMS_KEY_ARN, {}],
    ['kms:DescribeKey', BAKE.AMI_KMS_KEY_ARN, {}],
    ['ec2:ModifyImageAttribute', ec2('image', 'ami-0final'), packerTag],
    ['ec2:DeregisterImage', ec2('image', 'ami-0temp'), packerTag],
    ['ec2:DeleteSnapshot', ec2('snapshot', 'snap-0temp'), packerTag],
    ['ec2:CreateTags', ec2('image', 'ami-0final'), { 'aws:RequestTag/greenlight:app': app, 'aws:TagKeys': ['Name', 'greenlight:app', 'greenlight:release', 'greenlight:git-sha', 'greenlight:built'] }],
    ['ec2:CreateTags', ec2('snapshot', 'snap-0final'), { 'aws:RequestTag/greenlight:app': app, 'aws:TagKeys': ['Name', 'greenlight:app', 'greenlight:release', 'greenlight:git-sha', 'greenlight:built'] }],
    ['ec2:TerminateInstances', ec2('instance', 'i-0build'), packerTag],
    ['ec2:DeleteSecurityGroup', ec2('security-group', 'sg-0build'), packerTag],
    ['ec2:DeleteKeyPair', ec2('key-pair', 'packer_1'), packerTag],
    // greenlight publish-ami, then the rerun: release-ami reads the parameter, or finds the AMI by its tags and records it.
    ['ssm:GetParameter', ssmArn('eu-west-1', '111111111111', amiParameterName(app, RELEASE)), {}],
    ['ssm:PutParameter', ssmArn('eu-west-1', '111111111111', amiParameterName(app, RELEASE)), {}],
    ['ec2:DescribeImages', '*', {}],
  ];
  it('traces a bake with encrypt_boot, a shared AMI and a customer managed key, then its rerun', async () => {
    for (const [action, resource, context] of run) {
      expect(await can(action, resource, context), `${action} ${resource}`).toBe(true);
    }
    // Every grant of the policy is exercised by the trace, so nothing in it is there by accident.
    const used = new Set<string | undefined>();
    for (const [action, resource, context] of run) {
      for (const st of policy.Statement) if (await can(action, resource, context, { ...policy, Statement: [st] })) used.add(st.Sid);
    }
    expect(policy.Statement.map((s) => s.Sid).filter((sid) => !used.has(sid))).toEqual([]);
    expect(grantsIgnoringConditions(policy, 'ec2:ForceDeregister', '*')).toEqual([]);
  });

  // The amazon-ebs builder's AWS calls, read from the plugin's source (test/fixtures/packer-amazon-ebs-calls.json).
  it("traces every call of Packer's amazon-ebs builder that greenlight's template can make, and grants the reads", async () => {
    const packer = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'packer-amazon-ebs-calls.json'), 'utf8')) as { calls: Record<string, string[]> };
    const template = readFileSync(path.join(REPO_ROOT, 'packer', 'greenlight.pkr.hcl'), 'utf8');
    /** Calls made only for options greenlight's template does not set, each with the option. */
    const unused: { calls: string[]; option: RegExp; why: string }[] = [
      { calls: ['ec2:CreateFleet', 'ec2:CreateLaunchTemplate', 'ec2:DeleteLaunchTemplate'], option: /spot_/, why: 'spot instances' },
      { calls: ['ec2:GetPasswordData'], option: /winrm|windows_password/, why: 'Windows' },
      { calls: ['ec2-instance-connect:SendSSHPublicKey'], option: /session_manager|ssh_interface\s*=\s*"session_manager"/, why: 'the Session Manager tunnel' },
      { calls: ['ec2:EnableImageDeprecation'], option: /deprecate_at/, why: 'deprecation' },
      { calls: ['ec2:EnableImageDeregistrationProtection'], option: /deregistration_protection/, why: 'deregistration protection' },
      { calls: ['ec2:ModifySnapshotAttribute'], option: /snapshot_users|snapshot_groups/, why: 'sharing snapshots (a shared AMI launches without)' },
      { calls: ['ec2:ModifyInstanceAttribute'], option: /ena_support|sriov_support/, why: 'ENA and SR-IOV flags' },
      { calls: ['ec2:DeleteVolume'], option: /delete_on_termination\s*=\s*false/, why: 'volumes kept after the build' },
      { calls: ['iam:AddRoleToInstanceProfile', 'iam:CreateInstanceProfile', 'iam:CreateRole', 'iam:DeleteInstanceProfile', 'iam:DeleteRole', 'iam:DeleteRolePolicy', 'iam:GetInstanceProfile', 'iam:PutRolePolicy', 'iam:RemoveRoleFromInstanceProfile'], option: /temporary_iam_instance_profile|iam_instance_profile/, why: 'an instance profile for the build instance' },
    ];
    for (const u of unused) expect(template, `greenlight.pkr.hcl sets ${u.why}`).not.toMatch(u.option);
    const calls = Object.entries(packer.calls).flatMap(([service, ops]) => ops.map((op) => `${service}:${op}`));
    for (const u of unused) for (const c of u.calls) expect(calls, `${c} is a call of the plugin`).toContain(c);
    const made = calls.filter((c) => !unused.some((u) => u.calls.includes(c)));
    const traced = new Set(run.map(([action]) => action));
    // Reads take no resource (or any): granted on "*" in the region.
    for (const read of made.filter((c) => /^ec2:Describe/.test(c))) expect(await can(read, '*'), read).toBe(true);
    expect(made.filter((c) => !/^ec2:Describe/.test(c) && !traced.has(c)), 'made by Packer, missing from the trace').toEqual([]);
  });
});
