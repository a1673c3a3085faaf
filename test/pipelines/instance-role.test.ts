// The instance role at first boot, with the IAM policy simulator, through the permissions boundary:
// the SSM calls of packer/files/greenlight-config (which userdata/bootstrap.sh runs for the
// environment's configuration path), read from its code, and the Session Manager agent's calls.
// The role is granted nothing else.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SESSION_MANAGER_ACTIONS } from '../../lib/constructs/instance-role';
import { decide, type PolicyDocument } from '../helpers/iam-simulator';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import type { Stack } from './cloudformation-requests';
import { renderPolicy } from './iam-policy';
import { stacksOf } from './shapes';
import { type StackRole, stackRoles } from './stack-roles';

const { app } = cdkContext();
const helper = readFileSync(path.join(REPO_ROOT, 'packer', 'files', 'greenlight-config'), 'utf8');
const bootstrap = readFileSync(path.join(REPO_ROOT, 'userdata', 'bootstrap.sh'), 'utf8');

/** The SSM operations the helper's botocore client calls (`client.get_parameters_by_path(`), as IAM actions. */
const helperCalls = [...helper.matchAll(/\bclient\.([a-z_]+)\(/g)].map(
  ([, op]) => `ssm:${op.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('')}`,
);

const instances: [Stack, StackRole][] = [];
beforeAll(async () => {
  for (const stack of stacksOf('every environment, r1')) {
    const roles = await stackRoles(stack);
    instances.push([stack, roles.find((r) => r.service === 'ec2.amazonaws.com')!]);
  }
});

describe('the instance role at first boot', () => {
  it('reads the configuration path bootstrap.sh names, with the call greenlight-config makes', () => {
    expect(helper).toMatch(/create_client\(\s*"ssm"/);
    expect(helperCalls).toEqual(['ssm:GetParametersByPath']);
    expect(bootstrap).toContain('--path "/greenlight/$GREENLIGHT_APP/$GREENLIGHT_ENV/config/"');
  });

  it("may make every call of the boot and of the Session Manager agent, within the boundary, and nothing else is granted", async () => {
    expect(instances).toHaveLength(2);
    for (const [stack, role] of instances) {
      const env = stack.name.slice(app.length + 1);
      const boundary = renderPolicy(REPO_ROOT, 'permissions-boundary.json', { ACCOUNT_ID: stack.account, REGION: stack.region, APP: app }) as unknown as PolicyDocument;
      const identity = role.policy as PolicyDocument;
      const calls: [string, string][] = [
        ...helperCalls.map((a): [string, string] => [a, `arn:aws:ssm:${stack.region}:${stack.account}:parameter/greenlight/${app}/${env}/config/`]),
        ...SESSION_MANAGER_ACTIONS.map((a): [string, string] => [a, '*']),
        ['ssm:UpdateInstanceInformation', `arn:aws:ec2:${stack.region}:${stack.account}:instance/i-0boot`],
      ];
      for (const [action, resource] of calls) {
        const decision = await decide({ identity: [identity], boundary }, { principal: role.arn, action, resource, context: { 'aws:RequestedRegion': stack.region } });
        expect(decision, `${stack.name}: ${action} on ${resource}`).toBe('Allowed');
      }
      // Another environment's configuration is not the instance's to read.
      const other = `arn:aws:ssm:${stack.region}:${stack.account}:parameter/greenlight/${app}/${env}-2/config/`;
      expect(await decide({ identity: [identity], boundary }, { principal: role.arn, action: 'ssm:GetParametersByPath', resource: other, context: {} })).not.toBe('Allowed');
      expect([...new Set(role.grants.map((g) => g.action))].filter((a) => !calls.some(([c]) => c === a))).toEqual([]);
    }
  });
});
