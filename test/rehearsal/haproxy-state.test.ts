// Parsing of real runtime API answers (captured from HAProxy 2.6 with blue up, blue draining, green
// answering 301, green refusing connections, green in maintenance) into the gate's observations.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateBake, freshBakeProgress, type BakePolicy } from '../../lib/bake/evaluate';
import { evaluate } from '../../lib/health-gate/evaluate';
import type { GatePolicy } from '../../lib/health-gate/types';
import {
  backendCounters,
  bakeFiguresFrom,
  newCheckHistory,
  observationFrom,
  parseRequestLog,
  parseServersState,
  parseShowStat,
  percentile99,
  serverStatuses,
  targetHealthOf,
  withCheckHistory,
  type ServerStatus,
} from '../../lib/rehearsal/haproxy-state';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, 'fixtures', name), 'utf8');
const servers = serverStatuses(fixture('show-stat.csv'), fixture('show-servers-state.txt'));
const byName = (name: string) => servers.find((s) => s.name === name) as ServerStatus;

const server = (patch: Partial<ServerStatus>): ServerStatus => ({
  backend: 'release-b',
  name: 'green-1',
  id: 3,
  address: '127.0.1.3',
  opState: 0,
  adminState: 0,
  status: 'DOWN',
  checkStatus: 'L7OK',
  checkCode: 200,
  checkDesc: 'Layer7 check passed',
  checkHealth: 1,
  rise: 2,
  fall: 10,
  currentSessions: 0,
  ...patch,
});

describe('parsing the runtime API', () => {
  it('reads show stat by its header, including the frontend and backend rows', () => {
    const rows = parseShowStat(fixture('show-stat.csv'));
    expect(rows.map((r) => `${r.pxname}/${r.svname}`)).toEqual([
      'listener/FRONTEND',
      'release-a/blue-1',
      'release-a/blue-2',
      'release-a/BACKEND',
      'release-b/green-1',
      'release-b/green-2',
      'release-b/green-3',
      'release-b/green-4',
      'release-b/BACKEND',
    ]);
    expect(rows[4]).toMatchObject({ status: 'DOWN', check_status: 'L7STS', check_code: '301', check_desc: 'Layer7 wrong status' });
  });

  it('reads show servers state (format 1)', () => {
    const rows = parseServersState(fixture('show-servers-state.txt'));
    expect(rows).toHaveLength(6);
    expect(rows[1]).toMatchObject({ be_name: 'release-a', srv_name: 'blue-2', srv_op_state: '0', srv_admin_state: '8' });
    expect(() => parseServersState('2\n# be_id\n')).toThrow('show servers state: unsupported format version "2"');
    expect(() => parseShowStat('nothing')).toThrow('show stat: no "# pxname,svname,..." header');
  });

  it('joins both into one status per server', () => {
    expect(servers.map((s) => s.name)).toEqual(['blue-1', 'blue-2', 'green-1', 'green-2', 'green-3', 'green-4']);
    expect(byName('blue-1')).toMatchObject({ backend: 'release-a', id: 1, address: '127.0.1.1', opState: 2, adminState: 0, checkStatus: 'L7OK', checkCode: 200, currentSessions: 0 });
    expect(byName('green-1')).toMatchObject({ opState: 0, checkStatus: 'L7STS', checkCode: 301, rise: 2, fall: 3 });
    expect(byName('green-2')).toMatchObject({ checkStatus: 'L4CON', checkDesc: 'Connection refused' });
    expect(byName('green-2').checkCode).toBeUndefined();
    expect(byName('green-4')).toMatchObject({ adminState: 1, status: 'MAINT' });
  });
});

describe('target health in the load balancer’s words', () => {
  const health = (s: ServerStatus, seen?: Set<string>) => targetHealthOf(s, 'release-b', seen);

  it('an UP server is healthy', () => {
    expect(health(byName('blue-1'))).toEqual({ targetGroup: 'release-b', instanceId: 'blue-1', state: 'healthy' });
  });

  it('a 301 is a ResponseCodeMismatch quoting the code, as an ALB describes it', () => {
    expect(health(byName('green-1'))).toEqual({
      targetGroup: 'release-b',
      instanceId: 'green-1',
      state: 'unhealthy',
      reasonCode: 'Target.ResponseCodeMismatch',
      description: 'Health checks failed with these codes: [301]',
    });
  });

  it('a refused connection is FailedHealthChecks naming the refusal', () => {
    expect(health(byName('green-2'))).toMatchObject({
      state: 'unhealthy',
      reasonCode: 'Target.FailedHealthChecks',
      description: 'Health checks failed: Connection refused (L4CON)',
    });
  });

  it('a check timeout is Target.Timeout', () => {
    expect(health(server({ checkStatus: 'L7TOUT', checkCode: undefined, checkDesc: 'Layer7 timeout' }))).toMatchObject({
      state: 'unhealthy',
      reasonCode: 'Target.Timeout',
      description: 'Request timed out',
    });
  });

  it('maintenance is unused and drain is draining', () => {
    expect(health(byName('green-4'))).toMatchObject({ state: 'unused', reasonCode: 'Target.NotInUse' });
    expect(health(byName('blue-2'))).toMatchObject({ state: 'draining', reasonCode: 'Target.DeregistrationInProgress' });
  });

  it('a new server is initial until it first turns healthy, then unhealthy with its last failure', () => {
    expect(health(server({ checkStatus: 'INI', checkCode: undefined, checkHealth: 0 }))).toMatchObject({
      state: 'initial',
      reasonCode: 'Elb.InitialHealthChecking',
      description: 'Initial health checks in progress (0/2 passed)',
    });
    expect(health(server({}))).toMatchObject({ state: 'initial', description: 'Initial health checks in progress (1/2 passed)' });
    const back = server({ lastFailure: { checkStatus: 'L7STS', checkCode: 502, checkDesc: 'Layer7 wrong status' } });
    expect(health(back, new Set(['green-1']))).toMatchObject({
      state: 'unhealthy',
      reasonCode: 'Target.ResponseCodeMismatch',
      description: 'Health checks failed with these codes: [502]; passing again (1/2)',
    });
  });

  it('remembers the HTTP code while a check is in progress, and the last failure', () => {
    const history = newCheckHistory();
    withCheckHistory([server({ checkStatus: 'L7STS', checkCode: 503, checkDesc: 'Layer7 wrong status' })], history);
    const [midCheck] = withCheckHistory([server({ checkStatus: 'L7STS', checkCode: undefined, checkDesc: 'Layer7 wrong status' })], history);
    expect(midCheck.checkCode).toBe(503);
    const [rising] = withCheckHistory([server({ checkStatus: 'L7OK', checkCode: 200 })], history);
    expect(rising.lastFailure).toEqual({ checkStatus: 'L7STS', checkCode: 503, checkDesc: 'Layer7 wrong status' });
  });
});

describe('observations for the shared gate core', () => {
  const policy: GatePolicy = { expectedInstances: 3, consecutiveHealthyPolls: 3, pollIntervalMs: 1000, timeoutMs: 10_000, maxReplacedInstances: 2 };
  const instances = ['green-1', 'green-2', 'green-3'].map((name) => ({ name, lifecycleState: 'InService' as const }));

  it("covers the new release's instances in its backend only", () => {
    const observation = observationFrom({ at: 5, backend: 'release-b', instances, servers });
    expect(observation.targetGroups).toEqual(['release-b']);
    expect(observation.instances).toEqual(instances.map((i) => ({ instanceId: i.name, lifecycleState: 'InService', healthStatus: 'Healthy' })));
    expect(observation.targetHealth.map((t) => `${t.instanceId}:${t.state}`)).toEqual(['green-1:unhealthy', 'green-2:unhealthy', 'green-3:unhealthy']);
    expect(observation.activities).toEqual([]);
  });

  it('gives the same diagnosis as in AWS when the gate times out', () => {
    const first = evaluate(observationFrom({ at: 0, backend: 'release-b', instances, servers }), policy, undefined);
    expect(first.verdict).toBe('wait');
    expect(first.message).toContain('green-1: Target.ResponseCodeMismatch [301]');
    const last = evaluate(observationFrom({ at: 10_000, backend: 'release-b', instances, servers }), policy, first.progress);
    expect(last.verdict).toBe('fail');
    expect(last.message).toContain('Hint for Target.ResponseCodeMismatch [301]: the health path answers with a redirect: end it with a trailing slash');
    expect(last.message).toMatch(/Hint for Target\.FailedHealthChecks.*: the app did not start/);
  });

  it('counts a poll healthy only when every new instance is UP', () => {
    const up = (name: string) => server({ name, opState: 2, status: 'UP', checkHealth: 11 });
    const all = observationFrom({ at: 0, backend: 'release-b', instances, servers: [up('green-1'), up('green-2'), up('green-3')] });
    expect(evaluate(all, policy, undefined).progress.consecutiveHealthy).toBe(1);
    const partly = observationFrom({ at: 0, backend: 'release-b', instances, servers: [up('green-1'), up('green-2'), server({ name: 'green-3' })] });
    expect(evaluate(partly, policy, undefined).progress.consecutiveHealthy).toBe(0);
  });
});

// Captured at two bakes' verdicts with HAProxy 2.6: a rehearsal whose green pages answer 500 after
// the cutover (green-2 already failing its checks, 9/10 before HAProxy takes it down), and a green
// backend with one server taken down by its checks.
describe('the bake window from per-backend counters', () => {
  const atVerdict = fixture('show-stat-bake.csv');
  const down = { stat: fixture('show-stat-bake-down.csv'), state: fixture('show-servers-state-bake-down.txt') };
  const policy: BakePolicy = { durationMs: 60_000, maxErrorRate: 1, maxErrors: 0, alarms: [] };

  it("reads a backend's requests, 5xx and sessions from its BACKEND row; health checks are not requests", () => {
    expect(backendCounters(atVerdict, 'release-rehearsal-b')).toEqual({ requests: 34, errors5xx: 33, sessions: 42 });
    expect(backendCounters(atVerdict, 'release-rehearsal-a')).toEqual({ requests: 1475, errors5xx: 0, sessions: 1475 });
    expect(() => backendCounters(atVerdict, 'release-c')).toThrow('show stat: no BACKEND row for release-c');
  });

  it('counts from the cutover, and a server still UP while failing its checks as healthy, as the load balancer does', () => {
    const servers = serverStatuses(atVerdict, '');
    expect(servers.find((s) => s.name === 'green-2')).toMatchObject({ status: 'UP 9/10', checkStatus: 'L7STS', checkCode: 503, opState: 2 });
    // The one request before the cutover was the smoke check's, answered 200.
    const baseline = { requests: 1, errors5xx: 0, sessions: 1 };
    const figures = bakeFiguresFrom({ backend: 'release-rehearsal-b', counters: backendCounters(atVerdict, 'release-rehearsal-b'), baseline, servers });
    expect(figures).toEqual({ requests: 33, errors5xx: 33, healthyHosts: 2, unhealthyHosts: 0 });
    const decision = evaluateBake({ at: 2_000, ...figures, alarms: [] }, policy, freshBakeProgress(0));
    expect(decision.verdict).toBe('fail');
    expect(decision.message).toBe("bake: 100% 5xx on the release's target group over 2s (limit 1%): 33 of 33 requests");
  });

  it('counts a server its checks took down as unhealthy', () => {
    const servers = serverStatuses(down.stat, down.state);
    const counters = backendCounters(down.stat, 'release-rehearsal-b');
    const figures = bakeFiguresFrom({ backend: 'release-rehearsal-b', counters, baseline: counters, servers });
    expect(figures).toEqual({ requests: 0, errors5xx: 0, healthyHosts: 1, unhealthyHosts: 1 });
    expect(evaluateBake({ at: 1_000, ...figures, alarms: [] }, policy, freshBakeProgress(0)).verdict).toBe('wait');
    const allDown = bakeFiguresFrom({ backend: 'release-rehearsal-b', counters, baseline: counters, servers: servers.map((s) => ({ ...s, opState: 0 })) });
    expect(allDown).toMatchObject({ healthyHosts: 0, unhealthyHosts: 2 });
    expect(evaluateBake({ at: 1_000, ...allDown, alarms: [] }, policy, freshBakeProgress(0)).message).toMatch(/every target of the release's target group is unhealthy/);
  });

  it('ignores draining and maintenance servers and never counts below the baseline', () => {
    const servers = serverStatuses(down.stat, down.state).map((s) => ({ ...s, adminState: s.name === 'green-1' ? 1 : 8 }));
    const counters = backendCounters(down.stat, 'release-rehearsal-b');
    const later = { requests: counters.requests + 5, errors5xx: counters.errors5xx, sessions: 0 };
    expect(bakeFiguresFrom({ backend: 'release-rehearsal-b', counters, baseline: later, servers })).toEqual({ requests: 0, errors5xx: 0, healthyHosts: 0, unhealthyHosts: 0 });
  });
});

describe('the request log of the traffic steps', () => {
  it('reads each request line, skipping HAProxy\'s other lines, with no server time when none answered', () => {
    const log = [
      '[NOTICE]   (1234) : New worker (1235) forked',
      'greenlight-request 1796589110774 release-a 200 12',
      'greenlight-request 1796589110775 release-b 503 -1',
      'greenlight-request 1796589110790 release-b 200 331',
      '',
    ].join('\n');
    expect(parseRequestLog(log, 'greenlight-request')).toEqual([
      { at: 1796589110774, backend: 'release-a', status: 200, serverMs: 12 },
      { at: 1796589110775, backend: 'release-b', status: 503 },
      { at: 1796589110790, backend: 'release-b', status: 200, serverMs: 331 },
    ]);
  });

  it.each([
    [[], undefined],
    [[7], 7],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99],
    [Array.from({ length: 101 }, (_, i) => i + 1), 100],
    [[...Array.from({ length: 98 }, () => 10), 300, 320], 300],
  ])('the p99 of %j by nearest rank is %s', (values, p99) => {
    expect(percentile99(values)).toBe(p99);
  });
});
