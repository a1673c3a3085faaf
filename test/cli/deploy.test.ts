// `greenlight deploy`: its checks on the real cdk.json and a real cloud assembly, and how it follows
// the gate while cdk runs, with SSM mocked and cdk replaced by a scripted stand-in.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { App } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DeployRuntime, prepareDeploy, runDeploy } from '../../lib/cli/deploy';
import { buildApp } from '../../lib/app';
import { UserError } from '../../lib/errors';
import { createClients } from '../../lib/aws/clients';
import { formatDuration } from '../../lib/health-gate/evaluate';
import { bakeRecord, progressRecord, smokeRecord } from '../helpers/progress';
import { cdkContext, REPO_ROOT } from '../helpers/settings';

const APP = cdkContext().app;
const prepare = (opts: Parameters<typeof prepareDeploy>[0]) => prepareDeploy(opts, REPO_ROOT);

describe('prepareDeploy: argument errors', () => {
  it.each([
    [{}, '--env <name> is required: the environment in cdk.json, e.g. --env staging'],
    [{ env: 'qa', release: 'r1' }, `--env "qa": unknown environment; defined in cdk.json: staging, production`],
    [{ env: 'staging' }, '--release <id> is required: the release to deploy, e.g. --release 2026.11.22-3f9c2ab'],
    [
      { env: 'staging', release: '-r1' },
      '--release "-r1": not a valid release id; expected 1–63 letters, digits, dots or hyphens, starting with a letter or digit',
    ],
    [{ env: 'staging', release: 'r1', ami: 'ami-12' }, '--ami "ami-12": not an AMI id; expected "ami-" and 8 or 17 hex digits'],
    [{ env: 'staging', release: 'r1', interval: '0' }, '--interval "0": expected a whole number from 1 to 300'],
    [
      { env: 'staging', release: 'r1', appDir: 'cdk.out', ami: 'ami-0123456789abcdef0' },
      '--ami cannot be combined with --app-dir: the AMI was fixed when the assembly was synthesized',
    ],
    [
      { env: 'staging', release: 'r1', appDir: '/nonexistent/cdk.out' },
      '--app-dir /nonexistent/cdk.out: no cloud assembly there (no manifest.json); run `npx cdk synth -c release=r1` first',
    ],
  ])('%j → %s', (opts, message) => {
    expect(() => prepare(opts)).toThrow(UserError);
    expect(() => prepare(opts)).toThrow(message);
  });

  it('builds the plan for the environment’s stack', () => {
    const prepared = prepare({ env: 'production', release: 'r9', ami: 'ami-0123456789abcdef0', interval: '2' });
    expect(prepared.plan).toEqual({
      stackName: `${APP}-production`,
      envName: 'production',
      release: 'r9',
      appDir: undefined,
      ami: 'ami-0123456789abcdef0',
    });
    expect(prepared.intervalMs).toBe(2000);
  });
});

describe('prepareDeploy --app-dir against a real cloud assembly', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'greenlight-assembly-'));
    // An assembly to read, not a template to check: CDK's own validation would cost seconds of CPU here.
    const app = new App({ outdir: dir, context: { ...cdkContext(), release: 'r5', env: 'staging' }, builtinCloudFormationValidation: false });
    buildApp(app, { ...cdkContext(), release: 'r5', env: 'staging' });
    app.synth();
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts the release it was synthesized for', () => {
    expect(prepare({ env: 'staging', release: 'r5', appDir: dir }).plan.appDir).toBe(dir);
  });

  it('refuses another release', () => {
    expect(() => prepare({ env: 'staging', release: 'r6', appDir: dir })).toThrow(
      `--app-dir ${dir}: synthesized for release r5, not --release r6; synth again with -c release=r6`,
    );
  });

  it('refuses an environment the assembly does not hold', () => {
    expect(() => prepare({ env: 'production', release: 'r5', appDir: dir })).toThrow(
      `--app-dir ${dir}: no stack ${APP}-production in the assembly; it has ${APP}-staging`,
    );
  });

  it('names a corrupt manifest instead of failing with a stack trace', () => {
    const broken = mkdtempSync(path.join(tmpdir(), 'greenlight-assembly-'));
    writeFileSync(path.join(broken, 'manifest.json'), '{ not json');
    try {
      expect(() => prepare({ env: 'staging', release: 'r5', appDir: broken })).toThrow(
        new RegExp(`^cannot read ${broken}/manifest.json: `),
      );
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe('runDeploy', () => {
  const ssm = mockClient(SSMClient);
  const T0 = Date.UTC(2026, 10, 22, 12);
  const GATE = `/greenlight/${APP}/staging/gate/r2`;
  const LIVE = `/greenlight/${APP}/staging/live-release`;
  const SMOKE = `/greenlight/${APP}/staging/smoke/r2`;
  const BAKE = `/greenlight/${APP}/staging/bake/r2`;
  beforeEach(() => {
    ssm.reset();
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
  });

  /**
   * A stand-in for `cdk deploy` that plays a stack update: each step sets what the gate has written
   * to SSM, then lets time pass. The watcher reads SSM on its own schedule meanwhile.
   */
  function harness(steps: Array<{ value?: string; smoke?: string; bake?: string; forMs: number }>, exitCode: number) {
    let now = T0;
    const stored: Record<string, string | undefined> = {};
    const lines: string[] = [];
    const cdkCalls: string[][] = [];
    for (const name of [GATE, SMOKE, BAKE]) {
      ssm.on(GetParameterCommand, { Name: name }).callsFake(() => {
        if (stored[name] === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
        return { Parameter: { Name: name, Value: stored[name] } };
      });
    }
    const sleep = async (ms: number) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    };
    const runtime: DeployRuntime = {
      clients: createClients('eu-west-1'),
      print: (line) => lines.push(line),
      now: () => now,
      sleep,
      runCdk: async (args) => {
        cdkCalls.push([...args]);
        for (const step of steps) {
          if (step.value !== undefined) stored[GATE] = step.value;
          if (step.smoke !== undefined) stored[SMOKE] = step.smoke;
          if (step.bake !== undefined) stored[BAKE] = step.bake;
          for (let waited = 0; waited < step.forMs; waited += 1000) await sleep(1000);
        }
        return exitCode;
      },
    };
    return { runtime, lines, cdkCalls };
  }
  const gate = (verdict: 'wait' | 'pass' | 'fail', polls: number, lastMessage: string) =>
    JSON.stringify(
      progressRecord('r2', { verdict, polls, lastMessage, startedAt: T0 + 60_000, lastPollAt: T0 + 60_000 + polls * 15_000 }),
    );

  it('streams the gate while cdk runs and reports the pass', async () => {
    const { runtime, lines, cdkCalls } = harness(
      [
        { forMs: 60_000 },
        { value: gate('wait', 1, '0/2 healthy; i-a: Pending'), forMs: 30_000 },
        { value: gate('wait', 3, '2/2 healthy (1/3 consecutive polls)'), forMs: 30_000 },
        { value: gate('pass', 5, '2/2 healthy in every target group for 3 consecutive polls after 75s'), forMs: 120_000 },
      ],
      0,
    );
    const code = await runDeploy(prepare({ env: 'staging', release: 'r2' }), runtime);
    expect(code).toBe(0);
    expect(cdkCalls).toEqual([
      ['deploy', `${APP}-staging`, '-c', 'env=staging', '-c', 'release=r2', '--require-approval', 'never', '--progress', 'events'],
    ]);
    expect(lines).toEqual([
      `deploying release r2 to staging (${APP}-staging): cdk ${cdkCalls[0].join(' ')}`,
      `gate: waiting for the gate to start (${GATE})`,
      'gate: [poll 1, 15s] 0/2 healthy; i-a: Pending',
      'gate: [poll 3, 45s] 2/2 healthy (1/3 consecutive polls)',
      'gate: PASS: 2/2 healthy in every target group for 3 consecutive polls after 75s',
      // staging has smoke checks; this stack update ends before they write anything.
      `smoke: waiting for the smoke checks to start (${SMOKE})`,
      `DEPLOYED: r2 in staging (${APP}-staging); the gate passed: 2/2 healthy in every target group for 3 consecutive polls after 75s`,
    ]);
  });

  it('exits 1 with the diagnosis last when the gate fails', async () => {
    const diagnosis = 'Gate timed out after 900s with 0/2 healthy. i-a: Target.ResponseCodeMismatch [301]';
    const { runtime, lines } = harness(
      [
        { value: gate('wait', 1, '0/2 healthy'), forMs: 20_000 },
        { value: gate('fail', 60, diagnosis), forMs: 300_000 },
      ],
      1,
    );
    expect(await runDeploy(prepare({ env: 'staging', release: 'r2' }), runtime)).toBe(1);
    expect(lines).toContain(`gate: FAIL: ${diagnosis}`);
    expect(lines.at(-1)).toBe(`deploy failed in gate: ${diagnosis}`);
    expect(lines.at(-2)).toContain('the release did not pass the health gate. The stack rolled back');
  });

  it('writes the job summary with the verdict, diagnosis and phase timings, and annotates the failure', async () => {
    const diagnosis = 'Gate timed out after 900s with 0/2 healthy. i-a: Target.ResponseCodeMismatch [301]';
    const { runtime, lines } = harness(
      [
        { forMs: 60_000 },
        { value: gate('wait', 1, '0/2 healthy'), forMs: 20_000 },
        { value: gate('fail', 4, diagnosis), forMs: 100_000 },
      ],
      1,
    );
    const written: [string, string][] = [];
    const withFile: DeployRuntime = { ...runtime, appendFile: (file, text) => written.push([file, text]) };
    expect(await runDeploy(prepare({ env: 'staging', release: 'r2', summary: '/job/summary.md', annotate: true }), withFile)).toBe(1);
    expect(written).toHaveLength(1);
    const [file, summary] = written[0];
    expect(file).toBe('/job/summary.md');
    expect(summary).toContain('## ❌ r2 → staging');
    expect(summary).toContain('- Health gate: fail');
    expect(summary).toContain(`- deploy failed in gate: ${diagnosis}`);
    // The gate started 60 s in and polled 4 times, 15 s apart; the rest is until cdk exited.
    const total = runtime.now() - T0;
    expect(summary).toContain('| stack update until the gate started (launch, boot, first health checks) | 1m |');
    expect(summary).toContain('| health gate (4 polls) | 1m |');
    expect(summary).toContain(`| after the gate (cutover, cleanup of the previous release) | ${formatDuration(total - 120_000)} |`);
    expect(summary).toContain(`| total | ${formatDuration(total)} |`);
    expect(lines.at(-1)).toBe(
      `::error title=r2 failed in staging::FAILED%3A r2 in staging (${APP}-staging); cdk deploy exited 1: the release did not pass the health gate. The stack rolled back; the previous release still serves.%0Adeploy failed in gate: ${diagnosis}`.replace('FAILED%3A', 'FAILED:'),
    );
  });

  it('writes a passing summary and no annotation when the deploy succeeds', async () => {
    const { runtime, lines } = harness([{ value: gate('pass', 3, '2/2 healthy'), forMs: 30_000 }], 0);
    const written: string[] = [];
    expect(await runDeploy(prepare({ env: 'staging', release: 'r2', summary: 'out.md', annotate: true }), { ...runtime, appendFile: (_, t) => written.push(t) })).toBe(0);
    expect(written[0]).toContain('## ✅ r2 → staging');
    expect(written[0]).toContain('- Health gate: pass');
    expect(lines.some((l) => l.startsWith('::error'))).toBe(false);
  });

  it('follows the smoke checks and the bake after the gate, and names the bake in the last line when it fails', async () => {
    const bake = (verdict: 'wait' | 'fail', polls: number, lastMessage: string) =>
      JSON.stringify(bakeRecord('r2', { verdict, polls, lastMessage, startedAt: T0 + 200_000, lastPollAt: T0 + 200_000 + polls * 30_000 }));
    const failure = "bake: 7.4% 5xx on the release's target group over 60s (limit 1%): 74 of 1000 requests";
    const { runtime, lines } = harness(
      [
        { value: gate('pass', 4, '2/2 healthy'), forMs: 60_000 },
        { smoke: JSON.stringify(smokeRecord('r2', 'pass', 'smoke: 1 path answered as expected', T0 + 190_000)), forMs: 30_000 },
        { bake: bake('wait', 1, 'bake 30s/60s: 500 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts'), forMs: 30_000 },
        { bake: bake('fail', 2, failure), forMs: 120_000 },
      ],
      1,
    );
    expect(await runDeploy(prepare({ env: 'staging', release: 'r2' }), runtime)).toBe(1);
    expect(lines.slice(1, -1)).toEqual([
      `gate: waiting for the gate to start (${GATE})`,
      'gate: PASS: 2/2 healthy',
      `smoke: waiting for the smoke checks to start (${SMOKE})`,
      'smoke: PASS: 1 path answered as expected',
      `bake: waiting for the bake to start (${BAKE})`,
      'bake: 30s/60s: 500 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts',
      `bake: FAIL: 7.4% 5xx on the release's target group over 60s (limit 1%): 74 of 1000 requests`,
      `FAILED: r2 in staging (${APP}-staging); cdk deploy exited 1: the release failed its bake after the cutover. CloudFormation's rollback pointed the serving listener back at the previous release.`,
    ]);
    expect(lines.at(-1)).toBe("deploy failed in bake: 7.4% 5xx on the release's target group over 60s (limit 1%): 74 of 1000 requests");
  });

  it('still names the gate when the bake record cannot be read', async () => {
    const diagnosis = 'Gate timed out after 900s with 0/2 healthy.';
    const { runtime, lines } = harness([{ value: gate('fail', 60, diagnosis), forMs: 30_000 }], 1);
    ssm.on(GetParameterCommand, { Name: BAKE }).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    expect(await runDeploy(prepare({ env: 'staging', release: 'r2' }), runtime)).toBe(1);
    expect(lines.at(-1)).toBe(`deploy failed in gate: ${diagnosis}`);
  });

  it('stops following when cdk fails before the gate starts', async () => {
    const { runtime, lines } = harness([{ forMs: 10_000 }], 1);
    expect(await runDeploy(prepare({ env: 'staging', release: 'r2' }), runtime)).toBe(1);
    expect(lines.at(-1)).toContain(`cdk deploy exited 1 before the health gate started`);
    expect(lines.at(-1)).toContain(`/greenlight/${APP}/releases/r2/ami-id`);
  });

  it('lets cdk decide when the gate cannot be read', async () => {
    const { runtime, lines } = harness([{ forMs: 10_000 }], 0);
    ssm.on(GetParameterCommand, { Name: GATE }).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    expect(await runDeploy(prepare({ env: 'staging', release: 'r2' }), runtime)).toBe(0);
    expect(lines[1]).toBe(`gate: cannot follow the gate's progress (reading ${GATE}: AccessDeniedException: User is not authorized); cdk carries on`);
    expect(lines.at(-1)).toContain('no health gate ran');
  });

  it('keeps the live release running as the standby, with the deploy time its window counts from', async () => {
    const { runtime, lines, cdkCalls } = harness([{ value: gate('pass', 4, '2/2 healthy'), forMs: 10_000 }], 0);
    ssm.on(GetParameterCommand, { Name: LIVE }).resolves({ Parameter: { Name: LIVE, Value: 'r1' } });
    expect(await runDeploy(prepare({ env: 'staging', release: 'r2' }), runtime)).toBe(0);
    expect(lines[0]).toBe('keeping r1 running as the standby until 2026-11-22T13:00:00Z, for `greenlight rollback --env staging`');
    expect(cdkCalls[0]).toEqual(
      expect.arrayContaining(['-c', 'release=r2', '-c', 'standby=r1', '-c', 'deployTime=2026-11-22T12:00:00Z']),
    );
  });

  it('refuses in one line when it cannot read the live release', async () => {
    const { runtime, cdkCalls } = harness([], 0);
    ssm.on(GetParameterCommand, { Name: LIVE }).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(runDeploy(prepare({ env: 'staging', release: 'r2' }), runtime)).rejects.toThrow(
      new UserError(`reading ${LIVE}: AccessDeniedException: User is not authorized`),
    );
    expect(cdkCalls).toEqual([]);
  });
});
