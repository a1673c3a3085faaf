// iam/: the pipelines' role policies and OIDC trust policies. Parsed, checked for broad grants, then
// rendered for cdk.json's environments and asked whether they allow exactly what greenlight calls.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { amiParameterName, gateProgressParameterName, liveReleaseParameterName } from '../../lib/ssm-paths';
import { cdkContext, REPO_ROOT } from '../helpers/settings';

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Principal?: { Federated?: string };
  readonly Condition?: Record<string, Record<string, string>>;
}
interface Policy {
  readonly Version: string;
  readonly Statement: Statement[];
}

const IAM_DIR = path.join(REPO_ROOT, 'iam');
const files = readdirSync(IAM_DIR).filter((f) => f.endsWith('.json'));
const raw = (file: string) => readFileSync(path.join(IAM_DIR, file), 'utf8');
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat());
const isReadOnly = (action: string) => /^[a-z0-9-]+:(Describe|Get|List)/.test(action);

/** The README's pipelines section: where placeholders and broad grants are explained. */
const readmeSection = (() => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Release pipelines');
  return start < 0 ? '' : readme.slice(start);
})();

/** The policy with its <PLACEHOLDERS> filled in, as the README tells a team to do. */
function render(file: string, values: Record<string, string>): Policy {
  const text = raw(file).replace(/<([A-Z_]+)>/g, (m, key: string) => values[key] ?? m);
  expect(text, `${file} still has a placeholder`).not.toMatch(/<[A-Z_]+>/);
  return JSON.parse(text);
}

// IAM's wildcards: * is any run of characters, ? one character; actions are case-insensitive.
const glob = (pattern: string, value: string, flags = '') =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, flags).test(value);

/** The statements that allow this action on this resource (conditions aside). */
const allowing = (policy: Policy, action: string, resource: string): Statement[] =>
  policy.Statement.filter(
    (s) => s.Effect === 'Allow' && list(s.Action).some((a) => glob(a, action, 'i')) && list(s.Resource).some((r) => glob(r, resource)),
  );

const ssmArn = (region: string, account: string, name: string) => `arn:aws:ssm:${region}:${account}:parameter${name}`;

describe('iam/ documents', () => {
  it('ships the two role policies and a trust policy per CI system', () => {
    expect(files.sort()).toEqual([
      'bake-role-policy.json',
      'circleci-oidc-trust.json',
      'deploy-role-policy.json',
      'github-oidc-trust-bake.json',
      'github-oidc-trust-deploy.json',
    ]);
  });

  it.each(files)('%s parses, and every statement is a named Allow with no wildcard action', (file) => {
    const policy: Policy = JSON.parse(raw(file));
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement.length).toBeGreaterThan(0);
    for (const s of policy.Statement) {
      expect(s.Sid, file).toMatch(/^[A-Za-z0-9]+$/);
      expect(s.Effect).toBe('Allow');
      expect(Object.keys(s)).not.toContain('NotAction');
      expect(Object.keys(s)).not.toContain('NotResource');
      for (const action of list(s.Action)) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
    }
  });

  it.each(files)('%s grants a write on every resource only with a condition the README justifies', (file) => {
    const policy: Policy = JSON.parse(raw(file));
    for (const s of policy.Statement.filter((st) => list(st.Resource).includes('*'))) {
      const writes = list(s.Action).filter((a) => !isReadOnly(a));
      if (writes.length === 0) continue;
      expect(s.Condition, `${file} ${s.Sid}`).toBeDefined();
      expect(readmeSection, `README must justify ${s.Sid}`).toContain(`\`${s.Sid}\``);
    }
  });

  it('explains every placeholder in the README', () => {
    const placeholders = new Set(files.flatMap((f) => [...raw(f).matchAll(/<([A-Z_]+)>/g)].map((m) => m[0])));
    expect([...placeholders].sort()).toEqual(['<ACCOUNT_ID>', '<APP>', '<CIRCLECI_ORG_ID>', '<CIRCLECI_PROJECT_ID>', '<ENV>', '<GITHUB_OWNER>', '<GITHUB_REPO>', '<REGION>']);
    for (const p of placeholders) expect(readmeSection, p).toContain(`\`${p}\``);
  });
});

describe.each(Object.entries(cdkContext().environments))('deploy role for %s', (envName, settings) => {
  const { app } = cdkContext();
  const account = String(settings.account);
  const region = String(settings.region);
  const policy = render('deploy-role-policy.json', { ACCOUNT_ID: account, REGION: region, APP: app, ENV: envName });
  const allows = (action: string, resource: string) => allowing(policy, action, resource).length > 0;

  it('may assume the CDK bootstrap roles that deploy and publish assets, in its own account and region', () => {
    for (const role of ['deploy-role', 'file-publishing-role', 'lookup-role']) {
      expect(allows('sts:AssumeRole', `arn:aws:iam::${account}:role/cdk-hnb659fds-${role}-${account}-${region}`), role).toBe(true);
    }
    expect(allows('sts:AssumeRole', `arn:aws:iam::${account}:role/cdk-hnb659fds-cfn-exec-role-${account}-${region}`)).toBe(false);
    expect(allows('sts:AssumeRole', `arn:aws:iam::999999999999:role/cdk-hnb659fds-deploy-role-999999999999-${region}`)).toBe(false);
  });

  it('reads what deploy, watch, rollback and release-ami read', () => {
    expect(allows('ssm:GetParameter', ssmArn(region, account, gateProgressParameterName(app, envName, '2026.11.22-3f9c2ab')))).toBe(true);
    expect(allows('ssm:GetParameterHistory', ssmArn(region, account, liveReleaseParameterName(app, envName)))).toBe(true);
    expect(allows('ssm:GetParameter', ssmArn(region, account, liveReleaseParameterName(app, envName)))).toBe(true);
    expect(allows('ssm:GetParameter', ssmArn(region, account, amiParameterName(app, '2026.11.22-3f9c2ab')))).toBe(true);
    expect(allows('cloudformation:DescribeStackEvents', `arn:aws:cloudformation:${region}:${account}:stack/${app}-${envName}/abc`)).toBe(true);
  });

  it("writes only a shared release AMI's parameter itself, and reads no other environment", () => {
    const writes = policy.Statement.flatMap((s) => list(s.Action)).filter((a) => !isReadOnly(a));
    expect(writes).toEqual(['sts:AssumeRole', 'ssm:PutParameter']);
    expect(allows('ssm:PutParameter', ssmArn(region, account, amiParameterName(app, '2026.11.22-3f9c2ab')))).toBe(true);
    expect(allows('ssm:PutParameter', ssmArn(region, account, liveReleaseParameterName(app, envName)))).toBe(false);
    expect(allows('ssm:PutParameter', ssmArn(region, account, gateProgressParameterName(app, envName, 'r1')))).toBe(false);
    expect(allows('ssm:PutParameter', ssmArn(region, account, amiParameterName('another-app', 'r1')))).toBe(false);
    const other = envName === 'staging' ? 'production' : 'staging';
    expect(allows('ssm:GetParameterHistory', ssmArn(region, account, liveReleaseParameterName(app, other)))).toBe(false);
    expect(allows('ssm:GetParameter', ssmArn(region, account, gateProgressParameterName(app, other, 'r1')))).toBe(false);
    expect(allows('cloudformation:DescribeStacks', `arn:aws:cloudformation:${region}:${account}:stack/${app}-${other}/abc`)).toBe(false);
  });
});

describe('bake role', () => {
  const { app } = cdkContext();
  const policy = render('bake-role-policy.json', { ACCOUNT_ID: '111111111111', REGION: 'eu-west-1', APP: app });
  const allows = (action: string, resource: string) => allowing(policy, action, resource).length > 0;

  it('records the release AMI and nothing else in SSM', () => {
    expect(allows('ssm:PutParameter', ssmArn('eu-west-1', '111111111111', amiParameterName(app, '2026.11.22-3f9c2ab')))).toBe(true);
    expect(allows('ssm:GetParameter', ssmArn('eu-west-1', '111111111111', amiParameterName(app, '2026.11.22-3f9c2ab')))).toBe(true);
    expect(allows('ssm:PutParameter', ssmArn('eu-west-1', '111111111111', liveReleaseParameterName(app, 'production')))).toBe(false);
    expect(allows('ssm:PutParameter', ssmArn('eu-west-1', '111111111111', amiParameterName('another-app', 'r1')))).toBe(false);
  });

  it("launches Packer's instance in the bake region, and stops only instances tagged with the app", () => {
    const [launch] = allowing(policy, 'ec2:RunInstances', '*');
    expect(launch.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } });
    const [terminate] = allowing(policy, 'ec2:TerminateInstances', 'arn:aws:ec2:eu-west-1:111111111111:instance/i-0abc');
    expect(terminate.Condition).toEqual({ StringEquals: { 'ec2:ResourceTag/greenlight:app': app } });
    // The tag Packer puts on its build instance (run_tags) is the one the condition checks.
    const template = readFileSync(path.join(REPO_ROOT, 'packer', 'greenlight.pkr.hcl'), 'utf8');
    expect(template).toMatch(/"greenlight:app"\s*=\s*var\.app/);
    expect(template).toMatch(/run_tags\s*=\s*local\.tags/);
  });

  it('cannot deploy: no CloudFormation, no CDK roles', () => {
    expect(policy.Statement.flatMap((s) => list(s.Action)).filter((a) => /^(cloudformation|sts|iam):/.test(a))).toEqual([]);
  });
});

describe('OIDC trust policies', () => {
  const trust = (file: string, values: Record<string, string>) => render(file, { ACCOUNT_ID: '111111111111', ...values }).Statement;

  it('GitHub: deploy roles trust only jobs in their GitHub environment; the bake role only main', () => {
    const values = { GITHUB_OWNER: 'acme', GITHUB_REPO: 'shop', ENV: 'production' };
    for (const [file, sub] of [
      ['github-oidc-trust-deploy.json', 'repo:acme/shop:environment:production'],
      ['github-oidc-trust-bake.json', 'repo:acme/shop:ref:refs/heads/main'],
    ]) {
      const [s] = trust(file, values);
      expect(s.Action).toBe('sts:AssumeRoleWithWebIdentity');
      expect(s.Principal?.Federated).toBe('arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com');
      expect(s.Condition).toEqual({
        StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com', 'token.actions.githubusercontent.com:sub': sub },
      });
    }
  });

  it("CircleCI: roles trust the organization's tokens for one project", () => {
    const org = '11111111-2222-3333-4444-555555555555';
    const [s] = trust('circleci-oidc-trust.json', { CIRCLECI_ORG_ID: org, CIRCLECI_PROJECT_ID: 'proj-1' });
    expect(s.Action).toBe('sts:AssumeRoleWithWebIdentity');
    expect(s.Principal?.Federated).toBe(`arn:aws:iam::111111111111:oidc-provider/oidc.circleci.com/org/${org}`);
    expect(s.Condition).toEqual({
      StringEquals: { [`oidc.circleci.com/org/${org}:aud`]: org },
      StringLike: { [`oidc.circleci.com/org/${org}:sub`]: `org/${org}/project/proj-1/user/*` },
    });
  });
});
