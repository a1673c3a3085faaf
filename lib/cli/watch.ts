// `greenlight watch --env <env> --release <id>`: follows the gate's progress parameter until the
// gate passes or fails, printing a line whenever it changes. For release-job logs.
import { type AwsClients, createClients, isTransient, readParameter } from '../health-gate/aws';
import { formatDuration } from '../health-gate/evaluate';
import { parseRecord, type ProgressRecord } from '../health-gate/progress-record';
import { gateProgressParameterName } from '../ssm-paths';
import { explainAwsError, loadEnvironment } from './environment';
import { pollIntervalMs, releaseOption, wholeOption } from './options';

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

export async function watchGate(clients: AwsClients, o: WatchOptions): Promise<WatchOutcome> {
  const start = o.now();
  let last = '';
  let notedWaiting = false;
  let notedStale = false;
  let readError = '';
  for (;;) {
    let record: ProgressRecord | undefined;
    try {
      record = parseRecord(await readParameter(clients, o.parameterName));
      readError = '';
    } catch (err) {
      if (!isTransient(err)) explainAwsError(err, `reading ${o.parameterName}`);
      // Say so once per streak, so a silent log never looks like a frozen gate.
      const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      if (text !== readError) o.print(`could not read ${o.parameterName}, retrying: ${text}`);
      readError = text;
    }
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

export interface WatchCommandOptions {
  readonly env?: string;
  readonly release?: string;
  readonly interval?: string;
  readonly timeout?: string;
}

/** Exit code: 0 when the gate passed, 1 when it failed or never finished. */
export async function watchCommand(
  opts: WatchCommandOptions,
  cdkJsonPath = 'cdk.json',
  clients?: AwsClients,
  print: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  const env = loadEnvironment(opts.env, cdkJsonPath);
  const release = releaseOption(opts.release, 'the release whose gate to follow');
  // Room for the stack to create the probe and the group before the gate starts.
  const intervalMs = pollIntervalMs(opts.interval);
  const timeoutSeconds = wholeOption('--timeout', opts.timeout, 10, 86_400) ?? env.settings.gate.timeout + 1800;
  const outcome = await watchGate(clients ?? createClients(process.env.AWS_REGION || env.settings.region), {
    parameterName: gateProgressParameterName(env.app, env.envName, release),
    intervalMs,
    deadlineMs: timeoutSeconds * 1000,
    staleMs: 10 * 60_000,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    print,
  });
  return outcome === 'pass' ? 0 : 1;
}
