// Turns HAProxy's runtime API answers (`show stat`, `show servers state`) into the gate's
// Observation, translating HAProxy's check results into the ALB's target states and reason codes,
// so the shared diagnosis gives the same hint here as it does in AWS. Pure.
import type { InstanceObservation, Observation, TargetHealthObservation } from '../health-gate/types';

/** One server as the two runtime API commands describe it, joined by backend and name. */
export interface ServerStatus {
  readonly backend: string;
  readonly name: string;
  readonly id: number;
  readonly address: string;
  /** 0 stopped (down), 1 starting, 2 running (up), 3 stopping. */
  readonly opState: number;
  /** Bit field: maintenance and drain flags (0 = ready). */
  readonly adminState: number;
  /** `show stat` status text: `UP`, `DOWN 1/2`, `MAINT`, `DRAIN`, ... */
  readonly status: string;
  /** L7OK, L7STS, L4CON, L7TOUT, INI, ... (the "in progress" star removed). */
  readonly checkStatus: string;
  /** HTTP status of the last check, when it got one. */
  readonly checkCode?: number;
  /** The last check's detail when HAProxy gives one (`Connection refused`), else its kind (`Layer7 timeout`). */
  readonly checkDesc: string;
  /** HAProxy's health counter: 0..rise-1 is down, rise..rise+fall-1 is up. */
  readonly checkHealth: number;
  readonly rise: number;
  readonly fall: number;
  /** Current sessions: the drain is over when it reaches 0. */
  readonly currentSessions: number;
  /** The last failed check, when the poller remembers one (see withCheckHistory). */
  readonly lastFailure?: { readonly checkStatus: string; readonly checkCode?: number; readonly checkDesc: string };
}

/** Parses `show stat` CSV into one record per row, keyed by its header's column names. */
export function parseShowStat(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new Error(`show stat: no "# pxname,svname,..." header in: ${text.slice(0, 200)}`);
  const columns = header.slice(2).split(',');
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((line) => {
      const cells = line.split(',');
      return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
    });
}

/** Parses `show servers state` (format version 1) into one record per server. */
export function parseServersState(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length === 0) return [];
  if (lines[0].trim() !== '1') throw new Error(`show servers state: unsupported format version ${JSON.stringify(lines[0])}`);
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new Error('show servers state: no "# be_id be_name ..." header');
  const columns = header.slice(2).split(' ');
  return lines
    .slice(1)
    .filter((l) => !l.startsWith('#'))
    .map((line) => {
      const cells = line.trim().split(/\s+/);
      return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']));
    });
}

const int = (value: string | undefined, fallback = 0): number => {
  const n = Number.parseInt(value ?? '', 10);
  return Number.isNaN(n) ? fallback : n;
};

/** Joins both answers into one status per server (FRONTEND/BACKEND rows are dropped). */
export function serverStatuses(showStat: string, serversState: string): ServerStatus[] {
  const states = new Map(parseServersState(serversState).map((r) => [`${r.be_name}/${r.srv_name}`, r]));
  return parseShowStat(showStat)
    .filter((r) => r.svname !== 'FRONTEND' && r.svname !== 'BACKEND' && r.type !== '0' && r.type !== '1')
    .map((r) => {
      const state = states.get(`${r.pxname}/${r.svname}`);
      // A check in progress reports code 0 until it completes.
      const code = int(r.check_code, NaN) || NaN;
      return {
        backend: r.pxname,
        name: r.svname,
        id: int(r.sid),
        address: (state?.srv_addr ?? r.addr?.split(':')[0]) || '',
        opState: state ? int(state.srv_op_state) : /^UP|NOLB/.test(r.status) ? 2 : 0,
        adminState: state ? int(state.srv_admin_state) : /MAINT/.test(r.status) ? 1 : /DRAIN/.test(r.status) ? 8 : 0,
        status: r.status,
        checkStatus: r.check_status.replace(/^\*\s*/, ''),
        ...(Number.isNaN(code) ? {} : { checkCode: code }),
        checkDesc: r.last_chk || r.check_desc,
        checkHealth: int(r.check_health),
        rise: int(r.check_rise, 1),
        fall: int(r.check_fall, 1),
        currentSessions: int(r.scur),
      };
    });
}

// HAProxy's SRV_ADMF_* flags: forced, inherited, config, resolution and hostname maintenance; forced
// and inherited drain.
const MAINTENANCE_FLAGS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const DRAIN_FLAGS = 0x08 | 0x10;
const PASSING_CHECKS = new Set(['L4OK', 'L6OK', 'L7OK', 'L7OKC']);
const TIMEOUT_CHECKS = new Set(['L4TOUT', 'L6TOUT', 'L7TOUT']);

/** Why a check failed, in the ALB's words. */
function failedCheckReason(server: Pick<ServerStatus, 'checkStatus' | 'checkCode' | 'checkDesc'>): { reasonCode: string; description: string } {
  if (server.checkStatus === 'L7STS' && server.checkCode !== undefined) {
    return { reasonCode: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${server.checkCode}]` };
  }
  if (TIMEOUT_CHECKS.has(server.checkStatus)) {
    return { reasonCode: 'Target.Timeout', description: 'Request timed out' };
  }
  const detail = server.checkDesc || server.checkStatus;
  return { reasonCode: 'Target.FailedHealthChecks', description: `Health checks failed: ${detail} (${server.checkStatus})` };
}

/**
 * One server as a target group member. `seenHealthy` names servers that have been healthy before:
 * like a target group, a new server is `initial` until it first turns healthy, and afterwards a
 * server on its way back up is still `unhealthy`.
 */
export function targetHealthOf(
  server: ServerStatus,
  targetGroup: string,
  seenHealthy: ReadonlySet<string> = new Set(),
): TargetHealthObservation {
  const base = { targetGroup, instanceId: server.name };
  if (server.adminState & MAINTENANCE_FLAGS) {
    return { ...base, state: 'unused', reasonCode: 'Target.NotInUse', description: 'Target is in maintenance' };
  }
  if (server.adminState & DRAIN_FLAGS) {
    return { ...base, state: 'draining', reasonCode: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' };
  }
  if (server.opState !== 0) return { ...base, state: 'healthy' };
  const checked = server.checkStatus !== '' && server.checkStatus !== 'INI' && server.checkStatus !== 'UNK';
  if (!checked || (PASSING_CHECKS.has(server.checkStatus) && !seenHealthy.has(server.name))) {
    return {
      ...base,
      state: 'initial',
      reasonCode: 'Elb.InitialHealthChecking',
      description: `Initial health checks in progress (${server.checkHealth}/${server.rise} passed)`,
    };
  }
  if (PASSING_CHECKS.has(server.checkStatus)) {
    // Unhealthy until `rise` checks pass; the reason stays the failure that took it down.
    const last = server.lastFailure ? failedCheckReason(server.lastFailure) : { reasonCode: 'Target.FailedHealthChecks', description: 'Health checks failed' };
    return { ...base, state: 'unhealthy', reasonCode: last.reasonCode, description: `${last.description}; passing again (${server.checkHealth}/${server.rise})` };
  }
  return { ...base, state: 'unhealthy', ...failedCheckReason(server) };
}

/** What the runtime API forgets between polls, kept by the poller. */
export interface CheckHistory {
  /** The last HTTP code each server's checks got (HAProxy blanks it while a check runs). */
  readonly codes: Map<string, number>;
  /** The last failed check of each server. */
  readonly failures: Map<string, NonNullable<ServerStatus['lastFailure']>>;
}

export const newCheckHistory = (): CheckHistory => ({ codes: new Map(), failures: new Map() });

/**
 * Fills in what a single snapshot lacks: the HTTP code while a check is in progress, and the last
 * failure of a server on its way back up. Updates `history` in place.
 */
export function withCheckHistory(servers: readonly ServerStatus[], history: CheckHistory): ServerStatus[] {
  return servers.map((s) => {
    const key = `${s.backend}/${s.name}`;
    let status = s;
    if (s.checkCode !== undefined) history.codes.set(key, s.checkCode);
    else if (s.checkStatus === 'L7STS' && history.codes.has(key)) status = { ...s, checkCode: history.codes.get(key) };
    const checked = status.checkStatus !== '' && status.checkStatus !== 'INI' && status.checkStatus !== 'UNK';
    if (checked && !PASSING_CHECKS.has(status.checkStatus)) {
      history.failures.set(key, { checkStatus: status.checkStatus, checkCode: status.checkCode, checkDesc: status.checkDesc });
    }
    const lastFailure = history.failures.get(key);
    return lastFailure ? { ...status, lastFailure } : status;
  });
}

/** What the rehearsal knows about one new instance besides HAProxy's view: its processes. */
export interface InstanceProcessState {
  readonly name: string;
  /** Pending until its processes were started, InService while they run, Terminated after. */
  readonly lifecycleState: 'Pending' | 'InService' | 'Terminating' | 'Terminated';
}

/**
 * One gate poll: the new release's instances and their health in its backend. Instances are
 * `Healthy` to the Auto Scaling group while they run, as EC2 status checks would report; readiness
 * is the load balancer's job, exactly as in AWS.
 */
export function observationFrom(props: {
  readonly at: number;
  readonly backend: string;
  readonly instances: readonly InstanceProcessState[];
  readonly servers: readonly ServerStatus[];
  readonly seenHealthy?: ReadonlySet<string>;
}): Observation {
  const names = new Set(props.instances.map((i) => i.name));
  const instances: InstanceObservation[] = props.instances.map((i) => ({
    instanceId: i.name,
    lifecycleState: i.lifecycleState,
    healthStatus: i.lifecycleState === 'InService' || i.lifecycleState === 'Pending' ? 'Healthy' : 'Unhealthy',
  }));
  const targetHealth = props.servers
    .filter((s) => s.backend === props.backend && names.has(s.name))
    .map((s) => targetHealthOf(s, props.backend, props.seenHealthy));
  return { at: props.at, instances, targetGroups: [props.backend], targetHealth, activities: [] };
}

/** A backend's answers as `show stat`'s BACKEND row counts them: cumulative since HAProxy started. */
export interface BackendCounters {
  /** `req_tot`: HTTP requests the backend answered (health checks are not counted). */
  readonly requests: number;
  /** `hrsp_5xx`: of those, 5xx answers, whether a server sent them or HAProxy did for it. */
  readonly errors5xx: number;
  /** `stot`: sessions the backend handled. */
  readonly sessions: number;
}

/** The BACKEND row's counters of `backend`. */
export function backendCounters(showStat: string, backend: string): BackendCounters {
  const row = parseShowStat(showStat).find((r) => r.pxname === backend && r.svname === 'BACKEND');
  if (!row) throw new Error(`show stat: no BACKEND row for ${backend}`);
  return { requests: int(row.req_tot), errors5xx: int(row.hrsp_5xx), sessions: int(row.stot) };
}

/** What the bake sees in one poll of the release's backend, counted from `baseline` (the cutover). */
export interface BakeFigures {
  readonly requests: number;
  readonly errors5xx: number;
  readonly healthyHosts: number;
  readonly unhealthyHosts: number;
}

/**
 * The bake's figures for the release's backend: its counters since the cutover, and its servers as
 * a target group counts healthy and unhealthy hosts (draining or maintenance count as neither).
 */
export function bakeFiguresFrom(props: {
  readonly backend: string;
  readonly counters: BackendCounters;
  readonly baseline: BackendCounters;
  readonly servers: readonly ServerStatus[];
}): BakeFigures {
  const states = props.servers.filter((s) => s.backend === props.backend).map((s) => targetHealthOf(s, props.backend, new Set([s.name])).state);
  return {
    requests: Math.max(0, props.counters.requests - props.baseline.requests),
    errors5xx: Math.max(0, props.counters.errors5xx - props.baseline.errors5xx),
    healthyHosts: states.filter((s) => s === 'healthy').length,
    unhealthyHosts: states.filter((s) => s === 'unhealthy').length,
  };
}

/** One request as the listener logs it with progressive traffic (`REQUEST_LOG_PREFIX` lines). */
export interface LoggedRequest {
  /** Epoch milliseconds HAProxy accepted it. */
  readonly at: number;
  readonly backend: string;
  readonly status: number;
  /** Time from sending it to the server until the response headers; undefined when no server answered. */
  readonly serverMs?: number;
}

/** The request lines of HAProxy's log: `<prefix> <epoch ms> <backend> <status> <Tr>`; other lines are skipped. */
export function parseRequestLog(text: string, prefix: string): LoggedRequest[] {
  const out: LoggedRequest[] = [];
  for (const line of text.split('\n')) {
    const [head, at, backend, status, tr] = line.trim().split(/\s+/);
    if (head !== prefix || backend === undefined) continue;
    const serverMs = Number(tr);
    out.push({ at: Number(at), backend, status: Number(status), ...(Number.isFinite(serverMs) && serverMs >= 0 ? { serverMs } : {}) });
  }
  return out;
}

/** The 99th percentile by nearest rank, as CloudWatch's p99 of TargetResponseTime; undefined for none. */
export function percentile99(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.99 * sorted.length) - 1];
}
