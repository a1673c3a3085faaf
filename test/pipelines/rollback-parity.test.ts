// Both CI systems' rollback jobs switch to the standby within its window: each job's script, read
// from its pipeline and run by bash with `npx` recording its arguments, is run through
// greenlight rollback with SSM and Auto Scaling mocked. With the previous release standing by, each
// way a job can call it (no release, the release named, its recorded assembly kept) is a switch:
// a gate of its own on the standby's fleet, and no assembly redeployed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { type AutoScalingGroup, AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribePoliciesCommand, DescribeScalingActivitiesCommand, DescribeScheduledActionsCommand, DeleteScheduledActionCommand } from '@aws-sdk/client-auto-scaling';
import { GetParameterCommand, GetParameterHistoryCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import type { DeployRuntime } from '../../lib/cli/deploy';
import { type RollbackCommandOptions, prepareRollback, runRollback } from '../../lib/cli/rollback';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import { circleciConfig, githubWorkflows, type Yaml } from './pipelines';

const APP = cdkContext().app;
const STACK = `${APP}-production`;
const LIVE = `/greenlight/${APP}/production/live-release`;
const NOW = Date.UTC(2026, 10, 22);
const ssm = mockClient(SSMClient);
const autoScaling = mockClient(AutoScalingClient);

const group = (release: string): AutoScalingGroup => ({
  AutoScalingGroupName: `${STACK}-Fleet-${release}`,
  MinSize: 2,
  MaxSize: 12,
  DesiredCapacity: 3,
  DefaultCooldown: 300,
  AvailabilityZones: [],
  HealthCheckType: 'ELB',
  CreatedTime: new Date(NOW - (release === 'r1' ? 2 : 1) * 86_400_000),
  Tags: [{ Key: 'greenlight:release', Value: release }],
  Instances: [0, 1, 2].map((n) => ({ InstanceId: `i-${release}${n}`, LifecycleState: 'InService', HealthStatus: 'Healthy', AvailabilityZone: 'eu-west-1a', ProtectedFromScaleIn: false })),
});

/** The arguments each job passes to `npx`, as its bash runs the script with these values. */
function npxArguments(script: string, env: Record<string, string>, cwd: string): string[] {
  const run = spawnSync('bash', ['-c', `npx() { printf '%s\\0' "$@"; }\n${script}`], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\0').slice(0, -1);
}

function rollbackOptions(npxArgs: string[]): RollbackCommandOptions {
  expect(npxArgs.slice(0, 2)).toEqual(['greenlight', 'rollback']);
  const { values } = parseArgs({
    args: npxArgs.slice(2),
    strict: true,
    options: { env: { type: 'string' }, release: { type: 'string' }, 'app-dir': { type: 'string' }, 'accept-schema-risk': { type: 'boolean' } },
  });
  return { env: values.env, release: values.release, appDir: values['app-dir'], acceptSchemaRisk: values['accept-schema-risk'] };
}

describe("both pipelines' rollback jobs switch to the standby within its window", () => {
  let dir: string;
  beforeAll(() => {
    // The release job's recorded assembly of r1, as far as the rollback reads it.
    dir = mkdtempSync(path.join(tmpdir(), 'greenlight-rollback-parity-'));
    mkdirSync(path.join(dir, 'cdk.out'));
    writeFileSync(path.join(dir, 'cdk.out', 'manifest.json'), JSON.stringify({ artifacts: { [STACK]: { type: 'aws:cloudformation:stack', properties: { templateFile: `${STACK}.template.json` } } } }));
    writeFileSync(path.join(dir, 'cdk.out', `${STACK}.template.json`), JSON.stringify({ Resources: { Live: { Type: 'AWS::SSM::Parameter', Properties: { Name: LIVE, Value: 'r1' } } } }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => {
    ssm.reset();
    autoScaling.reset();
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: {} }));
    ssm.on(GetParameterHistoryCommand).resolves({ Parameters: ['r1', 'r2'].map((r, i) => ({ Name: LIVE, Value: r, Version: i + 1, LastModifiedDate: new Date(NOW - (2 - i) * 86_400_000) })) });
    ssm.on(GetParameterCommand, { Name: `/greenlight/${APP}/releases/r1/ami-id` }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
    autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake((input: { Filters?: { Name?: string; Values?: string[] }[] }) => {
      const release = input.Filters?.find((f) => f.Name === 'tag:greenlight:release')?.Values?.[0];
      return { AutoScalingGroups: [group('r1'), group('r2')].filter((g) => release === undefined || g.Tags?.some((t) => t.Value === release)) };
    });
    autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [] });
    autoScaling.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
    autoScaling.on(DescribeScheduledActionsCommand).resolves({ ScheduledUpdateGroupActions: [] });
    // r1 stands by for another hour.
    autoScaling
      .on(DescribeScheduledActionsCommand, { AutoScalingGroupName: `${STACK}-Fleet-r1` })
      .resolves({ ScheduledUpdateGroupActions: [{ ScheduledActionName: 'StandbyScaleToZero', StartTime: new Date(NOW + 3600_000), MinSize: 0, DesiredCapacity: 0 }] });
    autoScaling.on(DeleteScheduledActionCommand).resolves({});
  });

  const github = githubWorkflows()['rollback.yml'].jobs.rollback.steps.find((s: Yaml) => /greenlight rollback/.test(s.run ?? '')).run as string;
  const circle = circleciConfig().jobs.rollback.steps.find((s: Yaml) => /greenlight rollback/.test(s.run?.command ?? '')).run.command as string;
  const cases: Array<[string, string, Record<string, string>]> = [
    ['GitHub, no release named', github, { ENVIRONMENT: 'production', RELEASE: '', ASSEMBLY: '', ACCEPT_SCHEMA_RISK: 'false' }],
    ['GitHub, the standby named, its assembly expired', github, { ENVIRONMENT: 'production', RELEASE: 'r1', ASSEMBLY: '', ACCEPT_SCHEMA_RISK: 'false' }],
    ['GitHub, the standby named, its assembly kept', github, { ENVIRONMENT: 'production', RELEASE: 'r1', ASSEMBLY: 'cdk.out', ACCEPT_SCHEMA_RISK: 'false' }],
    ['CircleCI, no release named', circle.replace(/<<\s*parameters\.environment\s*>>/g, 'production'), { RELEASE: '', ACCEPT_SCHEMA_RISK: 'false' }],
    ['CircleCI, the standby named', circle.replace(/<<\s*parameters\.environment\s*>>/g, 'production'), { RELEASE: 'r1', ACCEPT_SCHEMA_RISK: 'false' }],
  ];

  it.each(cases)('%s: a gate on the standby and the switch, no assembly redeployed', async (_name, script, env) => {
    const opts = rollbackOptions(npxArguments(script, env, dir));
    const cdkCalls: string[][] = [];
    const rt: DeployRuntime = {
      clients: createClients('eu-west-1'),
      runCdk: async (args) => {
        cdkCalls.push([...args]);
        return 0;
      },
      print: () => undefined,
      now: () => NOW,
      sleep: async () => undefined,
    };
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await runRollback(prepareRollback(opts, REPO_ROOT), rt)).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    expect(cdkCalls).toHaveLength(1);
    expect(cdkCalls[0]).not.toContain('--app');
    expect(cdkCalls[0]).toEqual(expect.arrayContaining(['release=r1', 'standby=r2', 'rollback=20261122T000000Z']));
    expect(autoScaling.commandCalls(DeleteScheduledActionCommand).map((c) => c.args[0].input.AutoScalingGroupName)).toEqual([`${STACK}-Fleet-r1`]);
  });
});
