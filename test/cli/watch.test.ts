import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { watchCommand, watchGate, type WatchOptions, watchRelease } from '../../lib/cli/watch';
import { UserError } from '../../lib/errors';
import { createClients } from '../../lib/aws/clients';
import { evaluate } from '../../lib/health-gate/evaluate';
import type { GateProgress } from '../../lib/health-gate/types';
import { bakeRecord, progressRecord, smokeRecord, trafficRecord } from '../helpers/progress';

const ssm = mockClient(SSMClient);
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);
const PARAM = '/greenlight/shop/staging/gate/r1';

const record = (progress: Partial<GateProgress>): string =>
  JSON.stringify(progressRecord('r1', { startedAt: T0, lastPollAt: T0, ...progress }));

function harness(values: Array<string | Error | undefined>) {
  let now = T0;
  let reads = 0;
  const lines: string[] = [];
  ssm.on(GetParameterCommand).callsFake(() => {
    const value = values[Math.min(reads++, values.length - 1)];
    if (value instanceof Error) throw value;
    if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
    return { Parameter: { Name: PARAM, Value: value } };
  });
  const options: WatchOptions = {
    parameterName: PARAM,
    intervalMs: 5000,
    deadlineMs: 60_000,
    staleMs: 600_000,
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    print: (l) => lines.push(l),
  };
  return { options, lines, reads: () => reads };
}

beforeEach(() => ssm.reset());

describe('watchGate', () => {
  it('prints each change once and ends on pass', async () => {
    const { options, lines } = harness([
      undefined,
      record({ polls: 1, lastMessage: '0/2 healthy; i-a: Pending; i-b: Pending' }),
      record({ polls: 1, lastMessage: '0/2 healthy; i-a: Pending; i-b: Pending' }),
      record({ polls: 2, lastPollAt: T0 + 15_000, lastMessage: '2/2 healthy (1/3 consecutive polls)' }),
      record({ polls: 4, lastPollAt: T0 + 45_000, verdict: 'pass', lastMessage: '2/2 healthy in every target group for 3 consecutive polls after 45s' }),
    ]);
    await expect(watchGate(createClients('eu-west-1'), options)).resolves.toBe('pass');
    expect(lines).toEqual([
      `waiting for the gate to start (${PARAM})`,
      '[poll 1, 0s] 0/2 healthy; i-a: Pending; i-b: Pending',
      '[poll 2, 15s] 2/2 healthy (1/3 consecutive polls)',
      'PASS: 2/2 healthy in every target group for 3 consecutive polls after 45s',
    ]);
  });

  it('ends on fail with the diagnosis', async () => {
    const { options, lines } = harness([record({ polls: 61, lastPollAt: T0, verdict: 'fail', lastMessage: 'Gate timed out after 15m with 0/2 healthy.' })]);
    await expect(watchGate(createClients('eu-west-1'), options)).resolves.toBe('fail');
    expect(lines).toEqual(['FAIL: Gate timed out after 15m with 0/2 healthy.']);
  });

  it("ignores an earlier deploy's verdict and gives up at the deadline", async () => {
    const old = record({ lastPollAt: T0 - 3_600_000, verdict: 'fail', lastMessage: 'old failure' });
    const { options, lines, reads } = harness([old]);
    await expect(watchGate(createClients('eu-west-1'), options)).resolves.toBe('gave-up');
    expect(lines).toEqual([
      'ignoring a fail from an earlier deploy (2026-11-22T11:00:00.000Z); waiting for this one',
      'gave up after 1m: the gate has not finished',
    ]);
    expect(reads()).toBe(13);
  });

  it('rides out throttling of its own reads, saying so once', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    const { options, lines } = harness([throttled, throttled, record({ verdict: 'pass', lastMessage: 'ok' })]);
    await expect(watchGate(createClients('eu-west-1'), options)).resolves.toBe('pass');
    expect(lines).toEqual([`could not read ${PARAM}, retrying: ThrottlingException: Rate exceeded`, 'PASS: ok']);
  });

  it("shows the gate's transient polls as they happen, with their count and the error", async () => {
    // The records the gate itself stores for a healthy poll followed by two throttled ones.
    const policy = { expectedInstances: 1, consecutiveHealthyPolls: 3, pollIntervalMs: 15_000, timeoutMs: 900_000, maxReplacedInstances: 2 };
    const at = (s: number) => T0 + s * 1000;
    const fleet = { instances: [{ instanceId: 'i-a', lifecycleState: 'InService', healthStatus: 'Healthy' }], targetGroups: ['tg'], targetHealth: [{ targetGroup: 'tg', instanceId: 'i-a', state: 'healthy' }], activities: [] };
    const throttled = { instances: [], targetGroups: [], targetHealth: [], activities: [], transientError: 'ThrottlingException: Rate exceeded' };
    const first = evaluate({ at: at(0), ...fleet }, policy, undefined);
    const second = evaluate({ at: at(15), ...throttled }, policy, first.progress);
    const third = evaluate({ at: at(30), ...throttled }, policy, second.progress);
    const stored = (p: GateProgress) => JSON.stringify({ ...progressRecord('r1', {}), progress: p });
    const { options, lines } = harness([stored(first.progress), stored(second.progress), stored(third.progress), record({ verdict: 'pass', lastMessage: 'ok' })]);
    await expect(watchGate(createClients('eu-west-1'), options)).resolves.toBe('pass');
    expect(lines).toEqual([
      '[poll 1, 0s] 1/1 healthy (1/3 consecutive polls)',
      '[poll 2, 15s] AWS API error on 1 poll so far, retrying: ThrottlingException: Rate exceeded',
      '[poll 3, 30s] AWS API error on 2 polls so far, retrying: ThrottlingException: Rate exceeded',
      'PASS: ok',
    ]);
  });

  it('turns missing permissions into a one-line user error', async () => {
    const denied = Object.assign(new Error('User: x is not authorized to perform: ssm:GetParameter'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    const { options } = harness([denied]);
    const err = await watchGate(createClients('eu-west-1'), options).then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err?.message).toBe(`reading ${PARAM}: AccessDeniedException: User: x is not authorized to perform: ssm:GetParameter`);
  });
});

describe('watchCommand arguments', () => {
  it.each([
    [{ release: 'r1' }, '--env <name> is required: the environment in cdk.json, e.g. --env staging'],
    [{ env: 'qa', release: 'r1' }, '--env "qa": unknown environment; defined in cdk.json: staging, production'],
    [{ env: 'staging' }, '--release <id> is required: the release whose phases to follow'],
    [{ env: 'staging', release: 'bad/id' }, '--release "bad/id": not a valid release id; expected 1–63 letters, digits, dots or hyphens, starting with a letter or digit'],
    [{ env: 'staging', release: 'r1', interval: '0' }, '--interval "0": expected a whole number from 1 to 300'],
    [{ env: 'staging', release: 'r1', timeout: 'soon' }, '--timeout "soon": expected a whole number from 10 to 86400'],
  ])('%j', async (opts, message) => {
    const err = await watchCommand(opts, '.', createClients('eu-west-1')).then(() => undefined, (e: Error) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err?.message).toBe(message);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('exits 1 when the gate fails and 0 when it passes', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: record({ lastPollAt: Date.now(), verdict: 'fail', lastMessage: 'nope' }) } });
    const lines: string[] = [];
    await expect(watchCommand({ env: 'staging', release: 'r1' }, '.', createClients('eu-west-1'), (l) => lines.push(l))).resolves.toBe(1);
    expect(lines).toEqual(['gate: FAIL: nope']);
    expect(ssm.commandCalls(GetParameterCommand)[0].args[0].input).toEqual({ Name: '/greenlight/greenlight-demo/staging/gate/r1' });
    // The staging environment has smoke checks and a bake: a pass needs all three.
    const prefix = '/greenlight/greenlight-demo/staging';
    ssm.on(GetParameterCommand, { Name: `${prefix}/gate/r1` }).resolves({ Parameter: { Value: record({ lastPollAt: Date.now(), verdict: 'pass', lastMessage: 'yes' }) } });
    ssm.on(GetParameterCommand, { Name: `${prefix}/smoke/r1` }).resolves({ Parameter: { Value: JSON.stringify(smokeRecord('r1', 'pass', 'smoke: 1 path answered as expected', Date.now())) } });
    ssm.on(GetParameterCommand, { Name: `${prefix}/bake/r1` }).resolves({
      Parameter: { Value: JSON.stringify(bakeRecord('r1', { verdict: 'pass', lastMessage: 'bake: passed after 61s', startedAt: Date.now(), lastPollAt: Date.now() })) },
    });
    lines.length = 0;
    await expect(watchCommand({ env: 'staging', release: 'r1' }, '.', createClients('eu-west-1'), (l) => lines.push(l))).resolves.toBe(0);
    expect(lines).toEqual(['gate: PASS: yes', 'smoke: PASS: 1 path answered as expected', 'bake: PASS: passed after 61s']);
  });
});

describe('watchRelease', () => {
  const GATE = '/greenlight/shop/staging/gate/r1';
  const SMOKE = '/greenlight/shop/staging/smoke/r1';
  const BAKE = '/greenlight/shop/staging/bake/r1';
  const TRAFFIC = '/greenlight/shop/staging/traffic/r1';

  /** Each parameter answers its values in turn, one per read, the last one from then on. */
  function phases(values: Record<string, Array<string | undefined>>) {
    let now = T0;
    const lines: string[] = [];
    const reads: Record<string, number> = {};
    ssm.on(GetParameterCommand).callsFake(({ Name }: { Name: string }) => {
      const list = values[Name] ?? [undefined];
      const value = list[Math.min((reads[Name] = (reads[Name] ?? -1) + 1), list.length - 1)];
      if (value === undefined) throw new ParameterNotFound({ message: 'not found', $metadata: {} });
      return { Parameter: { Name, Value: value } };
    });
    const run = () =>
      watchRelease(createClients('eu-west-1'), {
        gateParameter: GATE,
        smokeParameter: SMOKE,
        trafficParameter: values[TRAFFIC] ? TRAFFIC : undefined,
        bakeParameter: BAKE,
        intervalMs: 5000,
        deadlineMs: 600_000,
        staleMs: 600_000,
        now: () => now,
        sleep: async (ms) => {
          now += ms;
        },
        print: (phase, l) => lines.push(`${phase}: ${l}`),
      });
    return { run, lines };
  }
  const bake = (verdict: 'wait' | 'fail', lastMessage: string) =>
    JSON.stringify(bakeRecord('r1', { verdict, lastMessage, startedAt: T0 + 10_000, lastPollAt: T0 + 20_000 }));

  it("follows the gate, then the smoke checks, then the bake's live figures, and ends on the bake's failure", async () => {
    const { run, lines } = phases({
      [GATE]: [record({ verdict: 'pass', lastMessage: '2/2 healthy' })],
      [SMOKE]: [undefined, JSON.stringify(smokeRecord('r1', 'pass', 'smoke: 2 paths answered as expected', T0 + 5_000))],
      [BAKE]: [
        undefined,
        bake('wait', 'bake 30s/240s: 400 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts'),
        bake('wait', 'bake 30s/240s: 400 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts'),
        bake('fail', "bake: 7.4% 5xx on the release's target group over 60s (limit 1%): 74 of 1000 requests"),
      ],
    });
    await expect(run()).resolves.toEqual({ phase: 'bake', outcome: 'fail' });
    expect(lines).toEqual([
      'gate: PASS: 2/2 healthy',
      `smoke: waiting for the smoke checks to start (${SMOKE})`,
      'smoke: PASS: 2 paths answered as expected',
      `bake: waiting for the bake to start (${BAKE})`,
      'bake: 30s/240s: 400 requests, 0 5xx (0%, limit 1%), 2 healthy and 0 unhealthy hosts',
      "bake: FAIL: 7.4% 5xx on the release's target group over 60s (limit 1%): 74 of 1000 requests",
    ]);
  });

  it('stops at a failed smoke check and never reads the bake; ignores an earlier deploy\'s smoke result', async () => {
    const { run, lines } = phases({
      [GATE]: [record({ verdict: 'pass', lastMessage: 'ok' })],
      [SMOKE]: [
        JSON.stringify(smokeRecord('r1', 'pass', 'smoke: old', T0 - 3600_000)),
        JSON.stringify(smokeRecord('r1', 'fail', 'smoke: GET / answered 500 (expected 200)', T0 + 5_000)),
      ],
    });
    await expect(run()).resolves.toEqual({ phase: 'smoke', outcome: 'fail' });
    expect(lines).toEqual(['gate: PASS: ok', `smoke: waiting for the smoke checks to start (${SMOKE})`, 'smoke: FAIL: GET / answered 500 (expected 200)']);
    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input.Name)).not.toContain(BAKE);
  });

  it('follows the traffic steps with their weights and running figures, and ends on a refused step', async () => {
    const traffic = (progress: Parameters<typeof trafficRecord>[2]) =>
      JSON.stringify(trafficRecord('r1', [10, 50], { startedAt: T0 + 10_000, lastPollAt: T0 + 20_000, ...progress }));
    const { run, lines } = phases({
      [GATE]: [record({ verdict: 'pass', lastMessage: 'ok' })],
      [SMOKE]: [JSON.stringify(smokeRecord('r1', 'pass', 'smoke: 1 path answered as expected', T0 + 5_000))],
      [TRAFFIC]: [
        traffic({ lastMessage: 'traffic step 1 (10%) 30s/480s: 5xx 0% vs live 0% (p = 0.55, margin 1 point); p99 30 ms vs live 28 ms (limit 1.5× and +100 ms); 0 of 150 requests, live 0 of 1350' }),
        traffic({
          verdict: 'fail',
          lastMessage: 'traffic step 1 (10%): 5xx 20% vs live 0.1% (p < 0.001, margin 1 point) over 40s: 40 of 200 requests, live 2 of 1800',
        }),
      ],
    });
    await expect(run()).resolves.toEqual({ phase: 'traffic', outcome: 'fail' });
    expect(lines).toEqual([
      'gate: PASS: ok',
      'smoke: PASS: 1 path answered as expected',
      'traffic: weights live 90 / new 10 (1 of 2): step 1 (10%) 30s/480s: 5xx 0% vs live 0% (p = 0.55, margin 1 point); p99 30 ms vs live 28 ms (limit 1.5× and +100 ms); 0 of 150 requests, live 0 of 1350',
      'traffic: FAIL: step 1 (10%): 5xx 20% vs live 0.1% (p < 0.001, margin 1 point) over 40s: 40 of 200 requests, live 2 of 1800',
    ]);
    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input.Name)).not.toContain(BAKE);
  });
});
