// `greenlight rollback` with SSM mocked: the live pointer's history and the previous release's AMI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import {
  type AutoScalingGroup,
  AutoScalingClient,
  DeleteScheduledActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribePoliciesCommand,
  DescribeScalingActivitiesCommand,
  DescribeScheduledActionsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { GetParameterCommand, GetParameterHistoryCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app';
import type { DeployRuntime } from '../../lib/cli/deploy';
import { releaseAmi } from '../../lib/cli/release-ami';
import { prepareRollback, runRollback } from '../../lib/cli/rollback';
import { UserError } from '../../lib/errors';
import { createClients } from '../../lib/aws/clients';
import { cdkContext, REPO_ROOT } from '../helpers/settings';

const APP = cdkContext().app;
const LIVE = `/greenlight/${APP}/production/live-release`;
const amiParam = (release: string) => `/greenlight/${APP}/releases/${release}/ami-id`;
const ssm = mockClient(SSMClient);
const autoScaling = mockClient(AutoScalingClient);
const STACK = `${APP}-production`;
const notFound = () => new ParameterNotFound({ message: 'Parameter not found', $metadata: {} });
const day = (d: number) => new Date(Date.UTC(2026, 10, d));

function runtime(cdkExitCode = 0) {
  const lines: string[] = [];
  const cdkCalls: string[][] = [];
  const rt: DeployRuntime = {
    clients: createClients('eu-west-1'),
    print: (line) => lines.push(line),
    now: () => day(22).getTime(),
    sleep: async () => undefined,
    runCdk: async (args) => {
      cdkCalls.push([...args]);
      return cdkExitCode;
    },
  };
  return { rt, lines, cdkCalls };
}

const history = (...releases: string[]) =>
  releases.map((r, i) => ({ Name: LIVE, Value: r, Version: i + 1, LastModifiedDate: day(i + 1) }));

/** The stack's groups as DescribeAutoScalingGroups answers, honouring its release-tag filter. */
function groups(...list: AutoScalingGroup[]) {
  autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake((input: { Filters?: { Name?: string; Values?: string[] }[] }) => {
    const release = input.Filters?.find((f) => f.Name === 'tag:greenlight:release')?.Values?.[0];
    return { AutoScalingGroups: list.filter((g) => release === undefined || g.Tags?.some((t) => t.Value === release)) };
  });
}
const group = (release: string, desired: number, inService: number, min = 2): AutoScalingGroup => ({
  AutoScalingGroupName: `${STACK}-Fleet-${release}`,
  MinSize: min,
  MaxSize: 12,
  DesiredCapacity: desired,
  DefaultCooldown: 300,
  AvailabilityZones: [],
  HealthCheckType: 'ELB',
  CreatedTime: day(Number(release.slice(1))),
  Tags: [{ Key: 'greenlight:release', Value: release }],
  Instances: Array.from({ length: inService }, (_, n) => ({
    InstanceId: `i-${release}${n}`,
    LifecycleState: 'InService',
    HealthStatus: 'Healthy',
    AvailabilityZone: 'eu-west-1a',
    ProtectedFromScaleIn: false,
  })),
});

beforeEach(() => {
  ssm.reset();
  autoScaling.reset();
  ssm.on(GetParameterCommand).rejects(notFound());
  groups();
  autoScaling.on(DescribePoliciesCommand).resolves({ ScalingPolicies: [] });
  autoScaling.on(DescribeScheduledActionsCommand).resolves({ ScheduledUpdateGroupActions: [] });
  autoScaling.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
});

describe('greenlight rollback', () => {
  it('says so when no release has gone live, and deploys nothing', async () => {
    ssm.on(GetParameterHistoryCommand).rejects(notFound());
    const { rt, cdkCalls } = runtime();
    await expect(runRollback(prepareRollback({ env: 'production' }, REPO_ROOT), rt)).rejects.toThrow(
      new UserError(`nothing to roll back to: ${LIVE} does not exist, so no release has gone live here yet`),
    );
    expect(cdkCalls).toEqual([]);
  });

  it('says so when only one release has served', async () => {
    ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r1') });
    const { rt, cdkCalls } = runtime();
    await expect(runRollback(prepareRollback({ env: 'production', print: true }, REPO_ROOT), rt)).rejects.toThrow(
      `nothing to roll back to: ${LIVE} has only ever held r1, so no earlier release has served here`,
    );
    expect(cdkCalls).toEqual([]);
  });

  it('--print prints the exact cdk deploy of the previous release', async () => {
    ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2') });
    ssm.on(GetParameterCommand, { Name: amiParam('r1') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
    const { rt, lines, cdkCalls } = runtime();
    expect(await runRollback(prepareRollback({ env: 'production', print: true }, REPO_ROOT), rt)).toBe(0);
    expect(lines).toEqual([
      `npx cdk deploy ${APP}-production -c env=production -c release=r1 -c standby=r2 -c deployTime=2026-11-22T00:00:00Z --require-approval never --progress events`,
    ]);
    expect(cdkCalls).toEqual([]);
    expect(ssm.commandCalls(GetParameterHistoryCommand)[0].args[0].input).toMatchObject({ Name: LIVE });
  });

  it('deploys the previous release through the same deploy, and passes on its exit code', async () => {
    ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2', 'r3') });
    ssm.on(GetParameterCommand, { Name: amiParam('r2') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
    const { rt, lines, cdkCalls } = runtime(1);
    expect(await runRollback(prepareRollback({ env: 'production' }, REPO_ROOT), rt)).toBe(1);
    expect(lines[0]).toBe(
      `rolling production back from r3 since ${day(3).toISOString()} to r2 (live since ${day(2).toISOString()}, AMI ami-0123456789abcdef0); it goes through the health gate like any release`,
    );
    expect(lines[2]).toBe(
      'no standby of r2 is running, so this is a redeploy: a new fleet boots and passes the gate; expect about 6 min (instance boot up to 300s, gate 45s)',
    );
    expect(cdkCalls).toEqual([
      [
        'deploy',
        `${APP}-production`,
        ...['-c', 'env=production', '-c', 'release=r2', '-c', 'standby=r3', '-c', 'deployTime=2026-11-22T00:00:00Z'],
        ...['--require-approval', 'never', '--progress', 'events'],
      ],
    ]);
    expect(lines.at(-1)).toContain('FAILED: r2 in production');
  });

  describe('--release', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'greenlight-rollback-assembly-'));
      const context = { ...cdkContext(), release: 'r1', env: 'production' };
      // An assembly to read, not a template to check: CDK's own validation would cost seconds of CPU here.
      const app = new App({ outdir: dir, context, builtinCloudFormationValidation: false });
      buildApp(app, context);
      app.synth();
    }, 120_000);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('rolls back to a named release that served here, from the assembly recorded for it', async () => {
      ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2', 'r3') });
      ssm.on(GetParameterCommand, { Name: amiParam('r1') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
      const { rt, lines, cdkCalls } = runtime();
      expect(await runRollback(prepareRollback({ env: 'production', release: 'r1', appDir: dir }, REPO_ROOT), rt)).toBe(0);
      expect(lines[0]).toMatch(/^rolling production back from r3 since .* to r1 \(live since /);
      expect(lines[1]).toBe(`deploying the assembly synthesized for r1: ${dir}`);
      expect(cdkCalls).toEqual([['deploy', `${APP}-production`, '--app', dir, '--require-approval', 'never', '--progress', 'events']]);
    });

    it("switches to a named release that stands by, rather than redeploying its recorded assembly (the CI rollback's case)", async () => {
      ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2') });
      ssm.on(GetParameterCommand, { Name: amiParam('r1') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
      groups(group('r1', 3, 3), group('r2', 3, 3));
      autoScaling.on(DescribeScheduledActionsCommand).resolves({ ScheduledUpdateGroupActions: [] });
      const { rt, lines, cdkCalls } = runtime();
      expect(await runRollback(prepareRollback({ env: 'production', release: 'r1', appDir: dir }, REPO_ROOT), rt)).toBe(0);
      expect(lines[1]).toBe(`r1 stands by: switching to it from this checkout's template rather than redeploying ${dir}`);
      expect(cdkCalls).toHaveLength(1);
      expect(cdkCalls[0]).not.toContain('--app');
      expect(cdkCalls[0]).toEqual(expect.arrayContaining(['release=r1', 'standby=r2', 'rollback=20261122T000000Z']));
    });

    it('synthesizes the named release when no assembly is given, and says so', async () => {
      ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2', 'r3') });
      ssm.on(GetParameterCommand, { Name: amiParam('r1') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
      const { rt, lines } = runtime();
      expect(await runRollback(prepareRollback({ env: 'production', release: 'r1', print: true }, REPO_ROOT), rt)).toBe(0);
      expect(lines).toEqual([
        `npx cdk deploy ${APP}-production -c env=production -c release=r1 -c standby=r3 -c deployTime=2026-11-22T00:00:00Z --require-approval never --progress events`,
      ]);
    });

    it.each([
      ['the live release', 'r3', '--release r3: it is the live release already'],
      ['a release that never served here', 'r9', `--release r9: it never served here (${LIVE} has held r3, r2, r1)`],
    ])('refuses %s, and deploys nothing', async (_, release, message) => {
      ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2', 'r3') });
      const { rt, cdkCalls } = runtime();
      await expect(runRollback(prepareRollback({ env: 'production', release }, REPO_ROOT), rt)).rejects.toThrow(message);
      expect(cdkCalls).toEqual([]);
    });

    it('refuses an assembly of another release, or an assembly without --release, before calling AWS', () => {
      expect(() => prepareRollback({ env: 'production', release: 'r2', appDir: dir }, REPO_ROOT)).toThrow(`--app-dir ${dir}: synthesized for release r1, not --release r2`);
      expect(() => prepareRollback({ env: 'production', appDir: dir }, REPO_ROOT)).toThrow('--app-dir needs --release: the release the assembly was synthesized for');
      expect(ssm.calls()).toHaveLength(0);
    });
  });

  it('switches back to a standby that serves at full size: a gate of its own, the listener moves, nothing scales', async () => {
    ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2') });
    ssm.on(GetParameterCommand, { Name: amiParam('r1') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
    groups(group('r1', 3, 3), group('r2', 3, 3));
    autoScaling
      .on(DescribeScheduledActionsCommand, { AutoScalingGroupName: `${STACK}-Fleet-r1` })
      .resolves({ ScheduledUpdateGroupActions: [{ ScheduledActionName: 'StandbyScaleToZero', StartTime: new Date(day(22).getTime() + 3600_000), MinSize: 0, DesiredCapacity: 0 }] });
    const { rt, lines, cdkCalls } = runtime(0);
    expect(await runRollback(prepareRollback({ env: 'production' }, REPO_ROOT), rt)).toBe(0);
    expect(lines[2]).toBe(
      'r1 stands by with 3 instances in service: a gate on it, then the listener moves back; ' +
        'expect about 55s (gate: 4 polls 15s apart; about 10s for the stack update and the listener), nothing relaunched',
    );
    expect(cdkCalls[0]).toEqual(
      expect.arrayContaining(['release=r1', 'standby=r2', 'deployTime=2026-11-22T00:00:00Z', 'rollback=20261122T000000Z']),
    );
    // The window cannot end mid-rollback: the scale-to-zero comes off the fleet about to serve.
    expect(autoScaling.commandCalls(DeleteScheduledActionCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: `${STACK}-Fleet-r1`, ScheduledActionName: 'StandbyScaleToZero' },
    ]);
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  });

  it('scales a standby at zero up first, then gates it and switches, and says so', async () => {
    ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2') });
    ssm.on(GetParameterCommand, { Name: amiParam('r1') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
    groups(group('r1', 0, 0, 0), group('r2', 4, 4));
    autoScaling
      .on(DescribeScheduledActionsCommand, { AutoScalingGroupName: `${STACK}-Fleet-r1` })
      .resolves({ ScheduledUpdateGroupActions: [{ ScheduledActionName: 'StandbyScaleToZero', StartTime: new Date(day(21).getTime()), MinSize: 0, DesiredCapacity: 0 }] });
    const { rt, lines, cdkCalls } = runtime(0);
    expect(await runRollback(prepareRollback({ env: 'production' }, REPO_ROOT), rt)).toBe(0);
    expect(lines[2]).toBe(
      `r1 stands by but its window ended at 2026-11-21T00:00:00Z: scaling ${STACK}-Fleet-r1 to 4 first, then its gate and the switch; ` +
        'expect about 6 min (instance boot up to 300s, gate 45s)',
    );
    expect(autoScaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: `${STACK}-Fleet-r1`, MinSize: 2, DesiredCapacity: 4 },
    ]);
    expect(cdkCalls[0]).toEqual(expect.arrayContaining(['release=r1', 'standby=r2', 'rollback=20261122T000000Z']));
  });

  it('reads every page of the history', async () => {
    ssm
      .on(GetParameterHistoryCommand)
      .resolvesOnce({ Parameters: history('r1', 'r2').slice(0, 1), NextToken: 'page-2' })
      .resolvesOnce({ Parameters: history('r1', 'r2').slice(1) });
    ssm.on(GetParameterCommand, { Name: amiParam('r1') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
    const { rt, lines } = runtime();
    await runRollback(prepareRollback({ env: 'production', print: true }, REPO_ROOT), rt);
    expect(ssm.commandCalls(GetParameterHistoryCommand)).toHaveLength(2);
    expect(lines[0]).toContain('release=r1');
  });

  it('refuses clearly when the previous release’s AMI parameter is gone', async () => {
    ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2') });
    const { rt, cdkCalls } = runtime();
    const rollback = runRollback(prepareRollback({ env: 'production' }, REPO_ROOT), rt);
    await expect(rollback).rejects.toThrow(UserError);
    await expect(rollback).rejects.toThrow(
      `cannot roll back production to r1: its AMI parameter ${amiParam('r1')} is missing (deleted, or published in another region)`,
    );
    expect(cdkCalls).toEqual([]);
  });

  it("refuses when the live release's migrations broke the one it returns to, unless --accept-schema-risk", async () => {
    const record = `/greenlight/${APP}/production/schema-record`;
    const reason = 'shop.0007_remove_item_price RemoveField: drops Item.price (column price): the live release still reads and writes it (acknowledged: moved to Offer)';
    ssm.on(GetParameterHistoryCommand).resolves({ Parameters: history('r1', 'r2') });
    ssm.on(GetParameterCommand, { Name: amiParam('r1') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
    ssm.on(GetParameterCommand, { Name: record }).resolves({ Parameter: { Value: JSON.stringify({ release: 'r2', previous: 'r1', rollbackSafe: false, reason }) } });
    const refused = runtime();
    await expect(runRollback(prepareRollback({ env: 'production' }, REPO_ROOT), refused.rt)).rejects.toThrow(
      new UserError(
        `cannot roll back production: r2 is not rollback-safe: its migrations break the release before it (${reason}), so r1 would serve on a schema it cannot use. ` +
          'Roll forward with a fix, or pass --accept-schema-risk to roll back anyway',
      ),
    );
    expect(refused.cdkCalls).toEqual([]);

    const accepted = runtime();
    expect(await runRollback(prepareRollback({ env: 'production', acceptSchemaRisk: true }, REPO_ROOT), accepted.rt)).toBe(0);
    expect(accepted.lines[0]).toBe(`rolling back despite the schema risk (--accept-schema-risk): ${reason}`);
    expect(accepted.cdkCalls).toHaveLength(1);

    // A record about another release (the live one's deploy recorded nothing) does not refuse.
    ssm.on(GetParameterCommand, { Name: record }).resolves({ Parameter: { Value: JSON.stringify({ release: 'r1', previous: 'r0', rollbackSafe: false, reason }) } });
    const other = runtime();
    expect(await runRollback(prepareRollback({ env: 'production', print: true }, REPO_ROOT), other.rt)).toBe(0);
  });

  it('turns missing permissions into a one-line error', async () => {
    ssm.on(GetParameterHistoryCommand).rejects(Object.assign(new Error('not authorized to perform ssm:GetParameterHistory'), { name: 'AccessDeniedException' }));
    const { rt } = runtime();
    await expect(runRollback(prepareRollback({ env: 'production' }, REPO_ROOT), rt)).rejects.toThrow(
      new UserError(`reading ${LIVE}: AccessDeniedException: not authorized to perform ssm:GetParameterHistory`),
    );
  });

  it('checks its options before calling AWS', () => {
    expect(() => prepareRollback({ env: 'qa' }, REPO_ROOT)).toThrow('--env "qa": unknown environment');
    expect(() => prepareRollback({ env: 'production', interval: 'soon' }, REPO_ROOT)).toThrow(
      '--interval "soon": expected a whole number from 1 to 300',
    );
    expect(ssm.calls()).toHaveLength(0);
  });
});

describe('greenlight release-ami', () => {
  it('returns the recorded AMI', async () => {
    ssm.on(GetParameterCommand, { Name: amiParam('r1') }).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
    await expect(releaseAmi(APP, 'r1', new SSMClient({ region: 'eu-west-1' }))).resolves.toBe('ami-0123456789abcdef0');
  });

  it('returns nothing for a release not yet baked', async () => {
    await expect(releaseAmi(APP, 'r9', new SSMClient({ region: 'eu-west-1' }))).resolves.toBeUndefined();
  });

  it('fails loudly on anything else, so a job never re-bakes on a permissions error', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(releaseAmi(APP, 'r1', new SSMClient({ region: 'eu-west-1' }))).rejects.toThrow(
      new UserError(`reading ${amiParam('r1')}: AccessDeniedException: denied`),
    );
  });
});
