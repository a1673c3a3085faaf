// Nothing a rehearsal starts outlives it, however it ends. Each run keeps a run file in its work
// directory: the owner (PID and start time) and the process group of every process it started, one
// line each, rewritten synchronously on every change. A watchdog outside the rehearsal kills those
// groups the moment the rehearsal exits, even by SIGKILL; and a later run finds the processes of a
// dead run by the work directory they run in and stops them. A run looks only at runs whose work
// directories share its parent (a checkout's .rehearsal/), never at runs kept anywhere else.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The run file's name, in the work directory and in every other directory a run claims. */
export const RUN_FILE = '.greenlight-run';

export interface RunOwner {
  readonly pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22): tells a reused PID apart. */
  readonly startTime: string;
}

/** A process's start time, or undefined once it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const ownerAlive = (owner: RunOwner): boolean => processStartTime(owner.pid) === owner.startTime;

function processGroup(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

interface RunFile {
  /** The work directory's run file, where a claimed directory's file points. */
  readonly file: string;
  readonly owner: RunOwner;
  readonly groups: readonly number[];
}

function readRunFile(file: string): RunFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').map((l) => l.trim().split(/\s+/));
  // A claimed directory points at the work directory's run file.
  const pointer = lines.find(([kind]) => kind === 'run');
  if (pointer?.[1] && pointer[1] !== file) return readRunFile(pointer[1]);
  const owner = lines.find(([kind]) => kind === 'owner');
  if (!owner || !/^\d+$/.test(owner[1] ?? '') || !owner[2]) return undefined;
  const groups = lines.filter(([kind, id]) => kind === 'group' && /^\d+$/.test(id ?? '')).map(([, id]) => Number(id));
  return { file, owner: { pid: Number(owner[1]), startTime: owner[2] }, groups };
}

/** Absolute paths a process runs in or names on its command line. */
function pathsOf(pid: number): string[] {
  const paths: string[] = [];
  try {
    paths.push(fs.readlinkSync(`/proc/${pid}/cwd`));
  } catch {
    // Gone, or not ours to read.
  }
  try {
    for (const arg of fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')) {
      const at = arg.indexOf('/');
      if (at >= 0 && (at === 0 || arg[at - 1] === '=' || arg[at - 1] === ':')) paths.push(arg.slice(at));
    }
  } catch {
    // Gone.
  }
  return paths;
}

export interface Leftover {
  readonly runFile: string;
  readonly pgid: number;
  readonly pids: readonly number[];
}

/**
 * Process groups left behind by rehearsals whose owner is gone: a process that runs in, or names, a
 * directory holding a run file whose owner is dead, in a group that run recorded, where that run's
 * work directory is in `parentDir`. Never this process's own group.
 */
export function findLeftovers(parentDir: string): Leftover[] {
  const scope = path.resolve(parentDir);
  const runFileFor = new Map<string, string | undefined>();
  const lookUp = (dir: string): string | undefined => {
    if (runFileFor.has(dir)) return runFileFor.get(dir);
    const file = path.join(dir, RUN_FILE);
    const parent = path.dirname(dir);
    const found = fs.existsSync(file) ? file : parent === dir ? undefined : lookUp(parent);
    runFileFor.set(dir, found);
    return found;
  };
  const runs = new Map<string, RunFile | undefined>();
  const ownGroup = processGroup(process.pid);
  const found = new Map<number, { runFile: string; pids: number[] }>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    for (const p of pathsOf(pid)) {
      const runFile = lookUp(path.resolve(p));
      if (!runFile) continue;
      if (!runs.has(runFile)) runs.set(runFile, readRunFile(runFile));
      const run = runs.get(runFile);
      const pgid = processGroup(pid);
      if (!run || path.dirname(path.dirname(run.file)) !== scope) continue;
      if (ownerAlive(run.owner) || pgid === undefined || pgid === ownGroup || !run.groups.includes(pgid)) continue;
      const group = found.get(pgid) ?? { runFile: run.file, pids: [] };
      group.pids.push(pid);
      found.set(pgid, group);
      break;
    }
  }
  return [...found].map(([pgid, g]) => ({ runFile: g.runFile, pgid, pids: g.pids }));
}

/** Stops what dead rehearsals in `parentDir` left running (SIGKILL to each group) and says what it stopped. */
export function stopLeftovers(log: (line: string) => void, parentDir: string): Leftover[] {
  const leftovers = findLeftovers(parentDir);
  for (const l of leftovers) {
    try {
      process.kill(-l.pgid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
    log(`stopped process group ${l.pgid} (PIDs ${l.pids.join(', ')}) left by a rehearsal that died, in ${path.dirname(l.runFile)}`);
  }
  return leftovers;
}

/**
 * Kills every group in the run file once its stdin closes, which happens when the rehearsal dies
 * for any reason; a run that ends by itself kills the watchdog instead. It runs in its own session:
 * a Ctrl-C at the terminal does not reach it.
 */
const WATCHDOG = `trap '' INT TERM HUP
cat >/dev/null
# Twice, a second apart: a member that joined a group while the first pass went round goes too.
# A run that ended by itself has removed its file: nothing to do.
for pass in 1 2; do
  [ -f "$1" ] || exit 0
  while read -r kind id _; do
    if [ "$kind" = group ]; then kill -CONT -"$id" 2>/dev/null; kill -KILL -"$id" 2>/dev/null; fi
  done < "$1"
  [ "$pass" = 2 ] || sleep 1
done
exit 0`;

export class RunGuard {
  private readonly groups = new Set<number>();
  private readonly claimed: string[] = [];
  private readonly owner: RunOwner;
  private watchdog?: ChildProcess;

  /** Stops a dead run's leftovers, writes this run's file and starts its watchdog. */
  constructor(
    private readonly workDir: string,
    log: (line: string) => void = () => undefined,
  ) {
    stopLeftovers(log, path.dirname(path.resolve(workDir)));
    this.owner = { pid: process.pid, startTime: processStartTime(process.pid) ?? '0' };
    this.write();
    this.watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'greenlight-watchdog', this.file], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    this.watchdog.on('error', () => undefined);
    this.watchdog.stdin?.on('error', () => undefined);
    // The watchdog must never keep the rehearsal alive, only outlive it.
    this.watchdog.unref();
    (this.watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }

  get file(): string {
    return path.join(this.workDir, RUN_FILE);
  }

  /** Records a process group the run started, before anything else happens. */
  track(pgid: number): void {
    this.groups.add(pgid);
    this.write();
  }

  untrack(pgid: number): void {
    if (this.groups.delete(pgid)) this.write();
  }

  /** Marks a directory outside the work directory (a database cluster) as this run's. */
  claim(dir: string): void {
    fs.writeFileSync(path.join(dir, RUN_FILE), `run ${this.file}\n`);
    this.claimed.push(dir);
  }

  /** Everything has stopped: the watchdog ends with nothing to kill, and the run file goes. */
  release(): void {
    // The file goes first: the watchdog then finds nothing to kill, not groups whose ids may be reused.
    for (const dir of this.claimed.splice(0)) fs.rmSync(path.join(dir, RUN_FILE), { force: true });
    fs.rmSync(this.file, { force: true });
    // Killed rather than left to notice its closed stdin: on a busy machine it would be scheduled only
    // after the rehearsal has exited, and outlive it for a moment.
    this.watchdog?.stdin?.end();
    this.watchdog?.kill('SIGKILL');
    this.watchdog = undefined;
  }

  private write(): void {
    const lines = [`owner ${this.owner.pid} ${this.owner.startTime}`, ...[...this.groups].map((g) => `group ${g}`)];
    // Written aside and renamed: killed mid-write, the run must leave its last whole list, never an empty file.
    const next = `${this.file}.${process.pid}.next`;
    fs.writeFileSync(next, `${lines.join('\n')}\n`);
    fs.renameSync(next, this.file);
  }
}
