// greenlight recover's CloudFormation reads against moto over real HTTP: a missing stack and a stack
// in CREATE_COMPLETE or UPDATE_COMPLETE are refused in one line with nothing changed, and the
// stack's resources and its events since the last update are read.
// moto's CloudFormation models neither UPDATE_ROLLBACK_FAILED (a failed update there does not roll
// back into it) nor ContinueUpdateRollback, so the stuck stack, the listener put back and the skip
// list are proved with aws-sdk-client-mock in recover.test.ts.
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, UpdateStackCommand } from '@aws-sdk/client-cloudformation';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureReasons, stackResources, stackStatus } from '../../lib/aws/cloudformation';
import { recoverCommand } from '../../lib/cli/recover';
import { MOTO, useMoto } from '../helpers/moto';

const STACK = 'shop-production';

if (!MOTO.available) console.warn(`skipping the recover moto test: ${MOTO.skipReason}`);

const template = (value: string) =>
  JSON.stringify({
    Resources: {
      LiveRelease: { Type: 'AWS::SSM::Parameter', Properties: { Name: '/greenlight/shop/production/live-release', Type: 'String', Value: value } },
    },
  });

describe.skipIf(!MOTO.available)('recover against moto', () => {
  let dir: string;
  let cfn: CloudFormationClient;
  useMoto(() => {
    cfn = new CloudFormationClient({});
  });
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'greenlight-recover-moto-'));
    writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ context: { app: 'shop', environments: { production: { account: '123456789012', region: 'eu-west-1' } } } }));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a stack that does not exist', async () => {
    expect(await stackStatus(cfn, STACK)).toBeUndefined();
    await expect(recoverCommand({ env: 'production' }, dir)).rejects.toThrow(`${STACK}: no such stack in this account and region; nothing to recover`);
  });

  it('refuses a stack that is not stuck, and leaves it as it was', async () => {
    await cfn.send(new CreateStackCommand({ StackName: STACK, TemplateBody: template('r1') }));
    await expect(recoverCommand({ env: 'production' }, dir)).rejects.toThrow(`${STACK} is CREATE_COMPLETE, not UPDATE_ROLLBACK_FAILED: nothing to recover, nothing changed`);
    await cfn.send(new UpdateStackCommand({ StackName: STACK, TemplateBody: template('r2') }));
    await expect(recoverCommand({ env: 'production' }, dir)).rejects.toThrow(`${STACK} is UPDATE_COMPLETE, not UPDATE_ROLLBACK_FAILED`);
    expect((await cfn.send(new DescribeStacksCommand({ StackName: STACK }))).Stacks?.[0]?.StackStatus).toBe('UPDATE_COMPLETE');
  });

  it("reads the stack's resources, and no failure since its last update", async () => {
    expect(await stackResources(cfn, STACK)).toEqual([
      expect.objectContaining({ logicalId: 'LiveRelease', type: 'AWS::SSM::Parameter', physicalId: '/greenlight/shop/production/live-release', status: expect.stringMatching(/_COMPLETE$/) }),
    ]);
    expect(await failureReasons(cfn, STACK)).toEqual(new Map());
  });
});
