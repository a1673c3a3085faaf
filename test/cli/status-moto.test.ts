// `greenlight status` against moto over real HTTP: a group created by a CloudFormation stack with a
// scheduled action (moto's CloudFormation models AWS::AutoScaling::ScheduledAction, not scaling
// policies), and a target tracking policy put through the Auto Scaling API, are both listed.
import { AutoScalingClient, PutScalingPolicyCommand } from '@aws-sdk/client-auto-scaling';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusCommand } from '../../lib/cli/status';
import { loadSettings } from '../../lib/config/load';
import { createNetwork, MOTO, type Moto, useMoto } from '../helpers/moto';
import { cdkContext } from '../helpers/settings';

const STACK = 'shop-production';

if (!MOTO.available) console.warn(`skipping the status moto test: ${MOTO.skipReason}`);

/** CreateStack over CloudFormation's Query API (the project has no CloudFormation SDK client). */
async function createStack(moto: Moto, name: string, template: object): Promise<void> {
  const res = await fetch(`${moto.endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Action: 'CreateStack', Version: '2010-05-15', StackName: name, TemplateBody: JSON.stringify(template) }),
  });
  if (!res.ok) throw new Error(`CreateStack failed with ${res.status}: ${(await res.text()).slice(0, 500)}`);
}

describe.skipIf(!MOTO.available)('status against moto', () => {
  let moto!: Moto;
  let dir: string;
  useMoto((started) => {
    moto = started;
  });
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'greenlight-status-moto-'));
    writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ context: { app: 'shop', environments: { production: { account: '123456789012', region: 'eu-west-1' } } } }));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("lists a stack-created scheduled action and a target tracking policy with the group's capacity", async () => {
    const scaling = loadSettings(cdkContext()).environments.production.scaling;
    const morning = scaling?.scheduled?.[0];
    if (!morning) throw new Error("cdk.json's production has no scheduled action");
    const net = await createNetwork(moto);
    await createStack(moto, STACK, {
      Resources: {
        FleetGroup: {
          Type: 'AWS::AutoScaling::AutoScalingGroup',
          Properties: {
            MinSize: '2',
            MaxSize: '12',
            DesiredCapacity: '2',
            LaunchTemplate: { LaunchTemplateName: net.launchTemplateName, Version: '$Latest' },
            VPCZoneIdentifier: net.subnetIds,
            // CloudFormation tags its groups with the stack's name; moto's does so only for EC2 resources.
            Tags: [
              { Key: 'greenlight:release', Value: 'r2', PropagateAtLaunch: true },
              { Key: 'aws:cloudformation:stack-name', Value: STACK, PropagateAtLaunch: false },
            ],
          },
        },
        FleetScheduledWeekdayMorning: {
          Type: 'AWS::AutoScaling::ScheduledAction',
          Properties: { AutoScalingGroupName: { Ref: 'FleetGroup' }, Recurrence: morning.cron, TimeZone: morning.timeZone, MinSize: morning.min },
        },
      },
    });
    const status0 = await statusCommand({ env: 'production' }, dir);
    const groupName = status0.match(/^(shop-production-FleetGroup\S*)\s+r2\s/m)?.[1];
    expect(groupName, status0).toBeDefined();
    await new AutoScalingClient({}).send(
      new PutScalingPolicyCommand({
        AutoScalingGroupName: groupName,
        PolicyName: 'CpuTracking',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' }, TargetValue: scaling?.cpuUtilization },
      }),
    );

    const status = await statusCommand({ env: 'production' }, dir);
    const rows = status.split('\n');
    expect(rows).toContainEqual(expect.stringMatching(new RegExp(`^${groupName} +r2 +2 +2 +12 +2/2$`)));
    expect(rows).toContainEqual(expect.stringMatching(new RegExp(`^${groupName} +target tracking: average CPU ${scaling?.cpuUtilization}%$`)));
    expect(rows).toContainEqual(
      expect.stringMatching(new RegExp(`^${groupName} +scheduled FleetScheduledWeekdayMorning: 30 6 \\* \\* MON-FRI Europe/London, min 4$`)),
    );
    expect(rows).toContainEqual(expect.stringMatching(new RegExp(`^${groupName} +none recorded$`)));
  });
});

