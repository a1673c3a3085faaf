// Every process the rehearsal starts is registered here and stopped on every exit path (normal end,
// error, Ctrl-C), by its PID and the process group it leads; nothing is ever stopped by name. With a
// RunGuard, the groups are also recorded for the watchdog that kills them if the rehearsal dies.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { RunGuard } from './run-guard';

/** util-linux's setpriv: the kernel kills each child the moment the rehearsal dies (PR_SET_PDEATHSIG). */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when the process has exited, with its code or signal. */
  readonly exited: Promise<string>;
  /** Undefined while running; `code 1`, `signal SIGTERM` or a spawn error once exited. */
  exitReason(): string | undefined;
}

export interface StartOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  readonly logPath: string;
  /** Run as this user (a server that refuses root, such as PostgreSQL). */
  readonly uid?: number;
  readonly gid?: number;
}

/** The process's exit reason, or undefined if it still runs after `ms` (the timer never holds Node open). */
export function waitExit(proc: ManagedProcess, ms: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    void proc.exited.then((reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Each child leads its own process group (spawned detached), so this reaches its workers too.
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * SIGKILL to the group a reaped leader led, for the members it left behind. While any member lives the
 * kernel keeps the group's id allocated, so no new process can take that number; once a process holds
 * it (/proc/<pid> exists) the group was empty and the number is another run's, maybe a new group's
 * leader, which must not be killed. PIDs wrap quickly (pid_max is often 32768) on a busy machine.
 */
function killLeftGroup(pid: number): void {
  if (fs.existsSync(`/proc/${pid}`)) return;
  signalGroup(pid, 'SIGKILL');
}

/** The last line of a log, for a start that failed inside the setpriv wrapper. */
function lastLogLine(logPath: string): string {
  try {
    return fs.readFileSync(logPath, 'utf8').trim().split('\n').at(-1) ?? '';
  } catch {
    return '';
  }
}

export class ProcessSupervisor {
  private readonly running = new Map<number, { proc: ManagedProcess; child: ChildProcess }>();
  private removeHandlers?: () => void;
  private closed = false;

  constructor(private readonly guard?: RunGuard) {}

  /** Marks a directory outside the work directory as the run's, for a later run's clean-up. */
  claim(dir: string): void {
    this.guard?.claim(dir);
  }

  /** From now on nothing new starts: a boot still under way after Ctrl-C or a failure gets an error. */
  close(): void {
    this.closed = true;
  }

  start(name: string, command: string, args: readonly string[], options: StartOptions): ManagedProcess {
    if (this.closed) throw new Error(`not starting ${name}: the rehearsal is stopping`);
    const out = fs.openSync(options.logPath, 'a');
    let reason: string | undefined;
    let child: ChildProcess;
    const [file, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, [...args]];
    try {
      child = spawn(file, argv, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['ignore', out, out],
        detached: true,
        ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid } : {}),
      });
    } finally {
      fs.closeSync(out);
    }
    // Recorded before anything else can happen; the group is the child's own (detached).
    if (child.pid !== undefined) this.guard?.track(child.pid);
    const exited = new Promise<string>((resolve) => {
      child.once('error', (err) => {
        reason = `could not start ${command}: ${err.message}`;
        resolve(reason);
      });
      child.once('exit', (code, signal) => {
        const notStarted = SETPRIV && code === 127 ? lastLogLine(options.logPath) : '';
        reason = notStarted.startsWith('setpriv: failed to execute') ? `could not start ${command}: ${notStarted}` : signal ? `signal ${signal}` : `code ${code}`;
        resolve(reason);
      });
    });
    const proc: ManagedProcess = { name, pid: child.pid ?? -1, logPath: options.logPath, exited, exitReason: () => reason };
    if (child.pid !== undefined) {
      this.running.set(child.pid, { proc, child });
      void exited.then(() => {
        this.running.delete(child.pid as number);
        // Workers a master left behind go with its group before the group is forgotten, once: after
        // this the number may belong to another process, so nothing signals this group again.
        killLeftGroup(child.pid as number);
        this.guard?.untrack(child.pid as number);
      });
    }
    return proc;
  }

  /** Sends a signal to the process alone (its master logic decides what the workers do). */
  signal(proc: ManagedProcess, signal: NodeJS.Signals): void {
    if (proc.exitReason() === undefined && proc.pid > 0) {
      try {
        process.kill(proc.pid, signal);
      } catch {
        // Already gone.
      }
    }
  }

  /** Pauses or resumes the process and its workers (SIGSTOP / SIGCONT to its group). */
  pause(proc: ManagedProcess, paused: boolean): void {
    if (proc.exitReason() === undefined && proc.pid > 0) signalGroup(proc.pid, paused ? 'SIGSTOP' : 'SIGCONT');
  }

  /**
   * Stops a process: `signal` to it (graceful for nginx with SIGQUIT, for gunicorn with SIGTERM),
   * then SIGKILL to its whole group after `graceMs`.
   */
  async stop(proc: ManagedProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
    // A process that has exited is not signalled again: its group went at its exit (start), and its
    // PID may since lead another run's group (a live instance's nginx or gunicorn).
    if (proc.pid <= 0 || proc.exitReason() !== undefined) return;
    signalGroup(proc.pid, 'SIGCONT');
    this.signal(proc, signal);
    if ((await waitExit(proc, graceMs)) !== undefined) return;
    // Still running after the grace, so the group is still ours: everything in it goes.
    signalGroup(proc.pid, 'SIGKILL');
    await waitExit(proc, 1_000);
  }

  /** Stops everything still running, newest first. */
  async stopAll(graceMs = 3_000): Promise<void> {
    const procs = [...this.running.values()].map((r) => r.proc).reverse();
    await Promise.all(procs.map((p) => this.stop(p, 'SIGTERM', graceMs)));
  }

  /** PIDs still running. */
  pids(): number[] {
    return [...this.running.keys()];
  }

  /** SIGKILL to every group still running, synchronously. */
  killAll(): void {
    for (const pid of this.running.keys()) {
      signalGroup(pid, 'SIGCONT');
      signalGroup(pid, 'SIGKILL');
    }
  }

  /**
   * Ctrl-C and SIGTERM stop every process before the rehearsal exits, and nothing new starts once
   * they arrive. Repeats while stopping are ignored: at a terminal, tsx relays the Ctrl-C its child
   * already got, and the stop is bounded anyway. If Node exits any other way, the groups still get
   * SIGKILL synchronously (and the RunGuard's watchdog covers SIGKILL of the rehearsal).
   */
  /**
   * Set once Ctrl-C or SIGTERM arrived: the stop under way, which exits the process (130 or 143) when
   * done. Code that sees its processes die from that stop awaits this instead of reporting a failure.
   */
  signalStop?: Promise<void>;

  installExitHandlers(onSignal: (signal: NodeJS.Signals) => Promise<void>): void {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      this.close();
      if (stopping) return;
      stopping = true;
      this.signalStop = onSignal(signal).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    const onExit = () => this.killAll();
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    process.once('exit', onExit);
    this.removeHandlers = () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      process.off('exit', onExit);
    };
  }

  uninstallExitHandlers(): void {
    this.removeHandlers?.();
    this.removeHandlers = undefined;
  }
}
