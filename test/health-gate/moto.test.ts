// The gate's Lambda handler, `status` and `watch` against moto over real HTTP (AWS_ENDPOINT_URL):
// the SDK calls, pagination, XML parsing and SSM progress are AWS's real wire format, not mocks.
// The clock is fake so the gate's poll spacing costs no wall-clock time.
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateTargetGroupCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { statusCommand } from '../../lib/cli/status';
import { watchCommand } from '../../lib/cli/watch';
import { createClients } from '../../lib/aws/clients';
import { readParameter } from '../../lib/aws/ssm';
import { gateHandlers } from '../../lib/health-gate/handler';
import { parseRecord } from '../../lib/health-gate/progress-record';
import { createNetwork, ec2, MOTO, type Moto, useMoto } from '../helpers/moto';
import { gateProperties, runGate } from './provider-driver';
import { FakeClock } from './simulated-fleet';

const APP = 'shop';
const ENV = 'staging';
const STACK = `${APP}-${ENV}`;
const RELEASE = '2026.11.22-3f9c2ab';
const PARAM = `/greenlight/${APP}/${ENV}/gate/${RELEASE}`;

if (!MOTO.available) console.warn(`skipping the gate's moto tests: ${MOTO.skipReason}`);

describe.skipIf(!MOTO.available)('the gate against moto', () => {
  let moto!: Moto;
  let dir: string;
  useMoto((started) => {
    moto = started;
  });
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'greenlight-moto-'));
    writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ context: { app: APP, environments: { [ENV]: { account: '123456789012', region: 'eu-west-1' } } } }));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => moto.reset());

  /** A group of `size` instances registered in a fresh target group, as a release's fleet is. */
  async function fleet(groupName: string, size = 2): Promise<{ instanceIds: string[]; targetGroupArn: string }> {
    const net = await createNetwork(moto);
    const elb = new ElasticLoadBalancingV2Client({});
    const tg = await elb.send(new CreateTargetGroupCommand({ Name: 'web', Protocol: 'HTTP', Port: 80, VpcId: net.vpcId, TargetType: 'instance' }));
    const targetGroupArn = tg.TargetGroups?.[0]?.TargetGroupArn ?? '';
    const asg = new AutoScalingClient({});
    await asg.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: groupName,
        MinSize: size,
        MaxSize: size,
        DesiredCapacity: size,
        LaunchTemplate: { LaunchTemplateName: net.launchTemplateName, Version: '$Latest' },
        VPCZoneIdentifier: net.subnetIds.join(','),
        TargetGroupARNs: [targetGroupArn],
        Tags: [
          { Key: 'aws:cloudformation:stack-name', Value: STACK, PropagateAtLaunch: false },
          { Key: 'greenlight:release', Value: RELEASE, PropagateAtLaunch: false },
        ],
      }),
    );
    const xml = await ec2(moto, 'DescribeInstances');
    const instanceIds = [...xml.matchAll(/<instanceId>(i-[0-9a-f]+)<\/instanceId>/g)].map((m) => m[1]);
    return { instanceIds, targetGroupArn };
  }

  const gate = () => {
    // From now: watch takes a finished record whose last poll is long past for an earlier deploy's.
    const clock = new FakeClock(Date.now());
    const handlers = gateHandlers({ clients: () => createClients(), now: () => clock.now(), log: () => undefined });
    return { clock, handlers };
  };
  const progress = async () => parseRecord(await readParameter(createClients(), PARAM));

  it('a healthy fleet passes after K polls, and watch and status show it', async () => {
    const { instanceIds } = await fleet('shop-staging-Fleet-r1');
    expect(instanceIds).toHaveLength(2);
    const { clock, handlers } = gate();
    const result = await runGate(handlers, gateProperties({ ConsecutiveHealthyPolls: '3' }), clock, { queryInterval: 15, maxPolls: 10 });
    expect(result).toMatchObject({ outcome: 'pass', polls: 3 });
    expect((await progress())?.progress).toMatchObject({ verdict: 'pass', polls: 3, consecutiveHealthy: 3 });

    const lines: string[] = [];
    await expect(watchCommand({ env: ENV, release: RELEASE, interval: '1', timeout: '10' }, dir, undefined, (l) => lines.push(l))).resolves.toBe(0);
    expect(lines).toEqual(['gate: PASS: 2/2 healthy in every target group for 3 consecutive polls after 30s']);

    const status = await statusCommand({ env: ENV }, dir);
    expect(status).toContain('shop-staging-Fleet-r1');
    for (const id of instanceIds) expect(status).toMatch(new RegExp(`${id} +${RELEASE.replace(/\./g, '\\.')} +InService +Healthy +web +healthy`));
  });

  it('a stopped instance (unused in its target group) never passes, and the timeout names it', async () => {
    const { instanceIds } = await fleet('shop-staging-Fleet-r1');
    await ec2(moto, 'StopInstances', { 'InstanceId.1': instanceIds[0] });
    const { clock, handlers } = gate();
    const result = await runGate(handlers, gateProperties({ TimeoutSeconds: '120' }), clock, { queryInterval: 15, maxPolls: 20 });
    expect(result.outcome).toBe('fail');
    expect(result.polls).toBe(9);
    expect(result.error).toContain(`Gate timed out after 2m with 1/2 healthy. ${instanceIds[0]}: Target.InvalidState (Target is in the stopped state).`);

    const status = await statusCommand({ env: ENV }, dir);
    expect(status).toMatch(new RegExp(`${instanceIds[0]} .* unused +Target\\.InvalidState`));
  });

  it('a deleted group fails fast, naming the group', async () => {
    await fleet('shop-staging-Fleet-r1');
    await new AutoScalingClient({}).send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'shop-staging-Fleet-r1', ForceDelete: true }));
    const { clock, handlers } = gate();
    const result = await runGate(handlers, gateProperties(), clock, { queryInterval: 15, maxPolls: 10 });
    expect(result).toMatchObject({ outcome: 'fail', polls: 2 });
    expect(result.error).toMatch(/Auto Scaling group shop-staging-Fleet-r1 not found/);

    const lines: string[] = [];
    await expect(watchCommand({ env: ENV, release: RELEASE, interval: '1', timeout: '10' }, dir, undefined, (l) => lines.push(l))).resolves.toBe(1);
    expect(lines.at(-1)).toBe("gate: FAIL: Auto Scaling group shop-staging-Fleet-r1 not found on 2 consecutive polls: it was deleted, or the gate names the wrong group");
  });
});

