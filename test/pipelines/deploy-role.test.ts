// The deploy role (iam/deploy-role-policy.json) against every AWS call the CLI's commands that run as
// it (deploy, status, watch, rollback, publish-ami, and any added since) can make, read from their
// code (test/helpers/sdk-calls), with the
// IAM policy simulator: each call is granted in the environment's account and region, on the
// resources the policy names for it, with the request context the call carries (the stack's tag on
// an Auto Scaling group it changes). A command that gains a call without a grant fails here.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decide, type PolicyDocument } from '../helpers/iam-simulator';
import { sdkActionsReachedFrom } from '../helpers/sdk-calls';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import { presented } from './cloudformation-requests';
import { list, renderPolicy } from './iam-policy';

const { app, environments } = cdkContext();

/**
 * The CLI's commands, as bin/greenlight.ts loads them (`const { fn } = await import('../lib/…')`):
 * each runs as the deploy role but those named here, so a new command is held to the policy at once.
 */
const NOT_AS_THE_DEPLOY_ROLE: Readonly<Record<string, string>> = {
  resolveApp: 'reads cdk.json only',
  rehearseCommand: 'runs on this machine, against its own fake AWS',
  doctorCommand: 'checks this machine',
  checkMigrationsCommand: 'reads two checkouts; no AWS call',
  releaseAmiCommand: 'runs as the bake role in the bake job (iam/bake-role-policy.json)',
  addEnvironment: 'edits cdk.json and the pipelines',
  checkNewEnvironment: 'edits cdk.json and the pipelines',
};
const entry = readFileSync(path.join(REPO_ROOT, 'bin', 'greenlight.ts'), 'utf8');
const COMMANDS: readonly (readonly [string, string, string])[] = [...entry.matchAll(/const \{ ([^}]+) \} = await import\('\.\.\/(lib\/[^']+)'\)/g)].flatMap(([, names, module]) =>
  names
    .split(',')
    .map((n) => n.trim())
    .filter((n) => !(n in NOT_AS_THE_DEPLOY_ROLE))
    .map((n) => [n, `${module}.ts`, n] as const),
);

describe.each(Object.entries(environments))('the deploy role for %s', (envName, settings) => {
  const { account, region } = settings as { account: string; region: string };
  const rendered = renderPolicy(REPO_ROOT, 'deploy-role-policy.json', { ACCOUNT_ID: account, REGION: region, APP: app, ENV: envName });
  const policy = rendered as unknown as PolicyDocument;
  const principal = `arn:aws:iam::${account}:role/greenlight-deploy-${envName}`;
  // What CloudFormation tags every resource of the stack with.
  const carried = { 'aws:RequestedRegion': region, 'aws:ResourceTag/aws:cloudformation:stack-name': `${app}-${envName}` };

  it('holds every command the CLI loads, but those that run as another principal', () => {
    expect(COMMANDS.map(([name]) => name).sort()).toEqual(expect.arrayContaining(['deployCommand', 'publishAmi', 'rollbackCommand', 'statusCommand', 'watchCommand']));
    for (const name of Object.keys(NOT_AS_THE_DEPLOY_ROLE)) expect(entry, `${name} is still loaded by bin/greenlight.ts`).toContain(name);
  });

  it.each(COMMANDS.map(([name, file, fn]) => [name, file, fn]))('%s: every call its code can make is allowed', async (_name, file, fn) => {
    const calls = sdkActionsReachedFrom(REPO_ROOT, file, fn);
    const refused: string[] = [];
    for (const action of calls) {
      const statements = rendered.Statement.filter((s) => list(s.Action).includes(action));
      if (!statements.length) refused.push(`${action}: called, never granted`);
      for (const resource of statements.flatMap((s) => list(s.Resource)).map((r: string) => (r === '*' ? r : r.replace(/\*/g, 'x0')))) {
        const decision = await decide({ identity: [policy] }, { principal, action, resource, context: await presented(action, carried) });
        if (decision !== 'Allowed') refused.push(`${action} on ${resource}: ${decision}`);
      }
    }
    expect(refused).toEqual([]);
  });

  it('grants nothing no command calls, but what cdk deploy and SSM call as it', () => {
    const called = new Set(COMMANDS.flatMap(([, file, fn]) => sdkActionsReachedFrom(REPO_ROOT, file, fn)));
    const granted = rendered.Statement.flatMap((s) => list(s.Action));
    // cdk deploy, which greenlight spawns, assumes CDK's roles, and reads the stack for its events and
    // cdk diff; SSM checks a parameter of data type aws:ec2:image with the caller's ec2:DescribeImages.
    const forCdk = /^(sts:AssumeRole|cloudformation:(DescribeStackEvents|DescribeStacks|GetTemplate)|ec2:DescribeImages)$/;
    expect(granted.filter((a) => !called.has(a) && !forCdk.test(a))).toEqual([]);
  });
});
