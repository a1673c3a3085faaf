// `greenlight watch --env <env> --release <id>`: follows the release through its phases (the
// gate's progress, the smoke checks' result, the traffic steps' weights and figures, the bake's
// live figures) until one fails or the last
// passes, printing a line whenever one changes. For release-job logs.
import { parseBakeRecord } from '../bake/record';
import { type AwsClients, createEnvironmentClients } from '../aws/clients';
import { isTransient } from '../aws/errors';
import { readParameter } from '../aws/ssm';
import { formatDuration } from '../health-gate/evaluate';
import { parseRecord, type ProgressRecord } from '../health-gate/progress-record';
import { parseSmokeRecord } from '../smoke/record';
import { bakeProgressParameterName, gateProgressParameterName, smokeResultParameterName, trafficProgressParameterName } from '../ssm-paths';
import { parseTrafficRecord } from '../traffic/record';
import { trafficLongestRun } from '../time-limits';
import { type Phase, trafficState, withoutPhase } from './phases';
import { explainAwsError, loadEnvironment } from './environment';
import { pollIntervalMs, releaseOption, wholeOption } from '../options';

export type WatchOutcome = 'pass' | 'fail' | 'gave-up' | 'stopped';

export interface WatchOptions {
  readonly parameterName: string;
  /** Milliseconds between reads. */
  readonly intervalMs: number;
  /** Give up after this many milliseconds. */
  readonly deadlineMs: number;
  /** A finished record whose last poll is older than this, when watching starts, is an earlier deploy's. */
  readonly staleMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly print: (line: string) => void;
  /** Checked after every wait: true ends the watch quietly, e.g. once `cdk deploy` has exited. */
  readonly stopped?: () => boolean;
}

const describe = (r: ProgressRecord): string => {
  const p = r.progress;
  return `[poll ${p.polls}, ${formatDuration(p.lastPollAt - p.startedAt)}] ${p.lastMessage}`;
};

/**
 * One read of a phase's parameter. A transient error reads as nothing and is printed once per
 * streak (`lastError`), so a silent log never looks like a frozen phase; any other is a user error.
 */
async function readRecord(
  clients: AwsClients,
  o: Pick<WatchOptions, 'parameterName' | 'print'>,
  lastError: string,
): Promise<{ readonly value?: string; readonly error: string }> {
  try {
    return { value: await readParameter(clients, o.parameterName), error: '' };
  } catch (err) {
    if (!isTransient(err)) explainAwsError(err, `reading ${o.parameterName}`);
    const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    if (text !== lastError) o.print(`could not read ${o.parameterName}, retrying: ${text}`);
    return { error: text };
  }
}

export async function watchGate(clients: AwsClients, o: WatchOptions): Promise<WatchOutcome> {
  const start = o.now();
  let last = '';
  let notedWaiting = false;
  let notedStale = false;
  let readError = '';
  for (;;) {
    const read = await readRecord(clients, o, readError);
    readError = read.error;
    const record: ProgressRecord | undefined = parseRecord(read.value);
    const stale = record && record.progress.verdict !== 'wait' && record.progress.lastPollAt < start - o.staleMs;
    if (stale && !notedStale) {
      o.print(`ignoring a ${record?.progress.verdict} from an earlier deploy (${new Date(record?.progress.lastPollAt ?? 0).toISOString()}); waiting for this one`);
      notedStale = true;
    }
    if (record && !stale) {
      const line = describe(record);
      if (line !== last) {
        o.print(record.progress.verdict === 'wait' ? line : `${record.progress.verdict.toUpperCase()}: ${record.progress.lastMessage}`);
        last = line;
      }
      if (record.progress.verdict !== 'wait') return record.progress.verdict;
    } else if (!record && !notedWaiting && !readError) {
      o.print(`waiting for the gate to start (${o.parameterName})`);
      notedWaiting = true;
    }
    if (o.now() - start >= o.deadlineMs) {
      o.print(`gave up after ${formatDuration(o.now() - start)}: the gate has not finished`);
      return 'gave-up';
    }
    await o.sleep(o.intervalMs);
    if (o.stopped?.()) return 'stopped';
  }
}

/** What a phase's stored record says: its verdict, the line to print, and when it last changed. */
interface PhaseView {
  readonly verdict: 'wait' | 'pass' | 'fail';
  readonly line: string;
  readonly at: number;
}

type FollowedPhase = 'smoke' | 'traffic' | 'bake';

const VIEWS: Record<FollowedPhase, (value: string | undefined) => PhaseView | undefined> = {
  smoke: (value) => {
    const r = parseSmokeRecord(value);
    return r && { verdict: r.verdict, line: withoutPhase('smoke', r.message), at: r.at };
  },
  traffic: (value) => {
    const r = parseTrafficRecord(value);
    const line = r && (r.progress.verdict === 'wait' ? trafficState(r) : withoutPhase('traffic', r.progress.lastMessage));
    return r && line !== undefined ? { verdict: r.progress.verdict, line, at: r.progress.lastPollAt } : undefined;
  },
  bake: (value) => {
    const r = parseBakeRecord(value);
    return r && { verdict: r.progress.verdict, line: withoutPhase('bake', r.progress.lastMessage), at: r.progress.lastPollAt };
  },
};

const PHASE_NAMES: Record<FollowedPhase, string> = { smoke: 'smoke checks', traffic: 'traffic steps', bake: 'bake' };

/** Follows the smoke, traffic or bake record as `watchGate` follows the gate's. */
async function watchPhase(
  clients: AwsClients,
  phase: FollowedPhase,
  o: WatchOptions,
  start: number,
): Promise<WatchOutcome> {
  let last = '';
  let noted = false;
  let readError = '';
  for (;;) {
    const read = await readRecord(clients, o, readError);
    readError = read.error;
    const view = VIEWS[phase](read.value);
    // A verdict from before this watch started belongs to an earlier deploy of the release.
    if (view && !(view.verdict !== 'wait' && view.at < start - o.staleMs)) {
      const line = view.verdict === 'wait' ? view.line : `${view.verdict.toUpperCase()}: ${view.line}`;
      if (line !== last) o.print(line);
      last = line;
      if (view.verdict !== 'wait') return view.verdict;
    } else if (!noted && !readError) {
      o.print(`waiting for the ${PHASE_NAMES[phase]} to start (${o.parameterName})`);
      noted = true;
    }
    if (o.now() - start >= o.deadlineMs) {
      o.print(`gave up after ${formatDuration(o.now() - start)}: the ${phase} has not finished`);
      return 'gave-up';
    }
    await o.sleep(o.intervalMs);
    if (o.stopped?.()) return 'stopped';
  }
}

export interface ReleaseWatchOptions extends Omit<WatchOptions, 'parameterName' | 'print'> {
  readonly gateParameter: string;
  /** Left out when the environment has no smoke checks. */
  readonly smokeParameter?: string;
  /** Left out when the environment has no traffic steps. */
  readonly trafficParameter?: string;
  /** Left out when the environment has no bake. */
  readonly bakeParameter?: string;
  readonly print: (phase: Phase, line: string) => void;
}

/** The gate, then the smoke checks, the traffic steps and the bake; ends at the first that does not pass. */
export async function watchRelease(clients: AwsClients, o: ReleaseWatchOptions): Promise<{ readonly phase: Phase; readonly outcome: WatchOutcome }> {
  const start = o.now();
  const gate = await watchGate(clients, { ...o, parameterName: o.gateParameter, print: (line) => o.print('gate', line) });
  if (gate !== 'pass') return { phase: 'gate', outcome: gate };
  let reached: { phase: Phase; outcome: WatchOutcome } = { phase: 'gate', outcome: gate };
  for (const [phase, parameterName] of [['smoke', o.smokeParameter], ['traffic', o.trafficParameter], ['bake', o.bakeParameter]] as const) {
    if (!parameterName) continue;
    const outcome = await watchPhase(clients, phase, { ...o, parameterName, print: (line) => o.print(phase, line) }, start);
    reached = { phase, outcome };
    if (outcome !== 'pass') break;
  }
  return reached;
}

export interface WatchCommandOptions {
  readonly env?: string;
  readonly release?: string;
  readonly interval?: string;
  readonly timeout?: string;
}

/** Exit code: 0 when every phase passed, 1 when one failed or never finished. */
export async function watchCommand(
  opts: WatchCommandOptions,
  projectDir = '.',
  clients?: AwsClients,
  print: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  const env = loadEnvironment(opts.env, projectDir);
  const release = releaseOption(opts.release, 'the release whose phases to follow');
  const intervalMs = pollIntervalMs(opts.interval);
  const { gate, smoke, traffic, bake } = env.settings;
  // Room for the stack to create the probe and the group before the gate starts, for the steps,
  // and for the bake's settle time and late metrics after it.
  const bakeSeconds = bake ? bake.duration + 3 * 60 + 5 * 60 : 0;
  const trafficSeconds = traffic ? trafficLongestRun(traffic.steps.length, traffic.stepDuration, traffic.maxExtension) : 0;
  const timeoutSeconds = wholeOption('--timeout', opts.timeout, 10, 86_400) ?? gate.timeout + 1800 + trafficSeconds + bakeSeconds;
  const { outcome } = await watchRelease(clients ?? createEnvironmentClients(env.settings.region), {
    gateParameter: gateProgressParameterName(env.app, env.envName, release),
    smokeParameter: smoke ? smokeResultParameterName(env.app, env.envName, release) : undefined,
    trafficParameter: traffic ? trafficProgressParameterName(env.app, env.envName, release) : undefined,
    bakeParameter: bake ? bakeProgressParameterName(env.app, env.envName, release) : undefined,
    intervalMs,
    deadlineMs: timeoutSeconds * 1000,
    staleMs: 10 * 60_000,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    print: (phase, line) => print(`${phase}: ${line}`),
  });
  return outcome === 'pass' ? 0 : 1;
}
