// Releases through moto's CloudFormation. With a standby: create r1, update to r2 keeping r1, then
// switch back; r1's group keeps the very same instances throughout and the listener follows each
// switch. Without one: r1 → r2 moves the listener, and r1's group and target group leave the stack.
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeScheduledActionsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeListenersCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { amazonLinuxImage, MOTO, type Moto, useMoto } from '../helpers/moto';
import { type CfnTemplate, deployToMoto, fitForMoto, stackResources } from '../helpers/moto-stack';
import { synthesize } from '../helpers/synth';

process.env.AWS_EC2_METADATA_DISABLED = 'true';

const STACK = 'greenlight-demo-staging';
const R1 = '2026.11.01-0a1b2c3';
const R2 = '2026.11.02-4d5e6f7';
const releaseKey = (release: string) => release.replace(/[^A-Za-z0-9]/g, '');

/** The environment's template for `context`, as moto can run it: each probe answers 2 instances and its own priority. */
function template(context: Record<string, string>): CfnTemplate {
  const synthesized = synthesize({ env: 'staging', ...context }).templates[STACK].toJSON() as CfnTemplate;
  return fitForMoto(synthesized, (id, attribute) => {
    if (attribute === 'DesiredCapacity') return 2;
    if (attribute === 'PreviewPriority') return id.includes(releaseKey(R1)) ? 1 : 2;
    return undefined;
  });
}

/** The one resource of `type` that belongs to `release`, by its logical id. */
function logical(t: CfnTemplate, type: string, release: string): string {
  const ids = Object.keys(t.Resources).filter((id) => t.Resources[id].Type === type && id.includes(releaseKey(release)));
  expect(ids, `${type} of ${release}`).toHaveLength(1);
  return ids[0];
}

/** The serving listener, on port 80. */
function servingListener(t: CfnTemplate): string {
  const ids = Object.keys(t.Resources).filter((id) => t.Resources[id].Type === 'AWS::ElasticLoadBalancingV2::Listener' && t.Resources[id].Properties?.Port === 80);
  expect(ids, 'the port-80 listener').toHaveLength(1);
  return ids[0];
}

if (!MOTO.available) console.warn(`skipping the standby's moto test: ${MOTO.skipReason}`);

// One moto server for both scenarios, emptied before each: a server's start and its first requests
// (which load the services' code) cost seconds of CPU.
describe.skipIf(!MOTO.available)('releases through moto', () => {
  let moto!: Moto;
  useMoto((started) => {
    moto = started;
  });
  beforeEach(async () => {
    await moto.reset();
    // Both releases published, to the same image.
    const image = await amazonLinuxImage(moto);
    const ssm = new SSMClient({});
    for (const release of [R1, R2]) {
      await ssm.send(new PutParameterCommand({ Name: `/greenlight/greenlight-demo/releases/${release}/ami-id`, Value: image, Type: 'String' }));
    }
  });

  describe('a standby through moto', () => {
    it('switches r1 → r2 → r1 with the same r1 instances, and the listener on each release in turn', async () => {
      const autoScaling = new AutoScalingClient({});
      const elb = new ElasticLoadBalancingV2Client({});
      const instancesOf = async (group: string) => {
        const out = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }));
        return (out.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId).sort();
      };
      const servedBy = async (physical: Record<string, string>, listener: string) => {
        const out = await elb.send(new DescribeListenersCommand({ ListenerArns: [physical[listener]] }));
        return out.Listeners?.[0]?.DefaultActions?.[0]?.TargetGroupArn;
      };

      const first = template({ release: R1 });
      const listener = servingListener(first);
      const r1Group = logical(first, 'AWS::AutoScaling::AutoScalingGroup', R1);
      const r1Target = logical(first, 'AWS::ElasticLoadBalancingV2::TargetGroup', R1);
      expect(await deployToMoto(moto, STACK, first, false)).toBe('CREATE_COMPLETE');
      let physical = await stackResources(moto, STACK);
      const r1Instances = await instancesOf(physical[r1Group]);
      expect(r1Instances).toHaveLength(2);
      expect(await servedBy(physical, listener)).toBe(physical[r1Target]);

      const second = template({ release: R2, standby: R1, deployTime: '2026-11-22T10:00:00Z' });
      const r2Group = logical(second, 'AWS::AutoScaling::AutoScalingGroup', R2);
      const r2Target = logical(second, 'AWS::ElasticLoadBalancingV2::TargetGroup', R2);
      expect(await deployToMoto(moto, STACK, second, true)).toBe('UPDATE_COMPLETE');
      const afterCutover = await stackResources(moto, STACK);
      expect(afterCutover[r1Group]).toBe(physical[r1Group]);
      expect(afterCutover[r1Target]).toBe(physical[r1Target]);
      physical = afterCutover;
      expect(await instancesOf(physical[r1Group])).toEqual(r1Instances);
      expect(await servedBy(physical, listener)).toBe(physical[r2Target]);
      const r2Instances = await instancesOf(physical[r2Group]);
      const toZero = await autoScaling.send(new DescribeScheduledActionsCommand({ AutoScalingGroupName: physical[r1Group] }));
      expect(toZero.ScheduledUpdateGroupActions?.map((a) => [a.StartTime?.toISOString(), a.MinSize, a.DesiredCapacity])).toEqual([
        ['2026-11-22T11:00:00.000Z', 0, 0],
      ]);

      const back = template({ release: R1, standby: R2, deployTime: '2026-11-22T10:20:00Z', rollback: '20261122T102000Z' });
      expect(await deployToMoto(moto, STACK, back, true)).toBe('UPDATE_COMPLETE');
      const afterRollback = await stackResources(moto, STACK);
      for (const id of [r1Group, r1Target, r2Group, r2Target]) expect(afterRollback[id], id).toBe(physical[id]);
      expect(await instancesOf(physical[r1Group])).toEqual(r1Instances);
      expect(await instancesOf(physical[r2Group])).toEqual(r2Instances);
      expect(await servedBy(physical, listener)).toBe(physical[r1Target]);
    }, 240_000);
  });

  describe('a plain release through moto (no standby)', () => {
    it("moves the listener to r2's target group, and r1's group and target group leave the stack", async () => {
      const elb = new ElasticLoadBalancingV2Client({});
      const first = template({ release: R1 });
      const second = template({ release: R2 });
      const listener = servingListener(first);
      const r1Group = logical(first, 'AWS::AutoScaling::AutoScalingGroup', R1);
      const r1Target = logical(first, 'AWS::ElasticLoadBalancingV2::TargetGroup', R1);
      const r2Target = logical(second, 'AWS::ElasticLoadBalancingV2::TargetGroup', R2);

      expect(await deployToMoto(moto, STACK, first, false)).toBe('CREATE_COMPLETE');
      const before = await stackResources(moto, STACK);
      expect(Object.keys(before)).toEqual(expect.arrayContaining([r1Group, r1Target]));

      expect(await deployToMoto(moto, STACK, second, true)).toBe('UPDATE_COMPLETE');
      const after = await stackResources(moto, STACK);
      // The listener keeps its physical resource and now forwards to r2's target group.
      expect(after[listener]).toBe(before[listener]);
      const out = await elb.send(new DescribeListenersCommand({ ListenerArns: [after[listener]] }));
      expect(out.Listeners?.[0]?.DefaultActions?.[0]?.TargetGroupArn).toBe(after[r2Target]);
      // moto deletes neither target groups nor rules, so the stack's own resource list is the evidence.
      expect(after[r1Group]).toBeUndefined();
      expect(after[r1Target]).toBeUndefined();
    }, 240_000);
  });
});
