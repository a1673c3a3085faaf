// The deploy role (iam/deploy-role-policy.json) against every AWS call greenlight's deploy, status,
// watch, rollback and publish-ami can make, read from their code (test/helpers/sdk-calls), with the
// IAM policy simulator: each call is granted in the environment's account and region, on the
// resources the policy names for it, with the request context the call carries (the stack's tag on
// an Auto Scaling group it changes). A command that gains a call without a grant fails here.
import { describe, expect, it } from 'vitest';
import { decide, type PolicyDocument } from '../helpers/iam-simulator';
import { sdkActionsReachedFrom } from '../helpers/sdk-calls';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import { presented } from './cloudformation-requests';
import { list, renderPolicy } from './iam-policy';

const { app, environments } = cdkContext();

/** The commands a deploy role runs, by the module and function each starts from. */
const COMMANDS: readonly (readonly [string, string, string])[] = [
  ['deploy', 'lib/cli/deploy.ts', 'deployCommand'],
  ['status', 'lib/cli/status.ts', 'statusCommand'],
  ['watch', 'lib/cli/watch.ts', 'watchCommand'],
  ['rollback', 'lib/cli/rollback.ts', 'rollbackCommand'],
  ['publish-ami', 'lib/ami/publish.ts', 'publishAmi'],
];

describe.each(Object.entries(environments))('the deploy role for %s', (envName, settings) => {
  const { account, region } = settings as { account: string; region: string };
  const rendered = renderPolicy(REPO_ROOT, 'deploy-role-policy.json', { ACCOUNT_ID: account, REGION: region, APP: app, ENV: envName });
  const policy = rendered as unknown as PolicyDocument;
  const principal = `arn:aws:iam::${account}:role/greenlight-deploy-${envName}`;
  // What CloudFormation tags every resource of the stack with.
  const carried = { 'aws:RequestedRegion': region, 'aws:ResourceTag/aws:cloudformation:stack-name': `${app}-${envName}` };

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
