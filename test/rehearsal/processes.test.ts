// The process supervisor signals only groups that are still its own. PIDs wrap quickly on a busy
// machine (pid_max is often 32768), so the number of a process that exited may soon lead another
// run's group: a live blue instance's nginx or gunicorn master.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProcessSupervisor } from '../../lib/rehearsal/processes';

const NS_LAST_PID = '/proc/sys/kernel/ns_last_pid';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-processes-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Running: a zombie waiting for its new parent to reap it has been killed already. */
const alive = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] !== 'Z';
  } catch {
    return false;
  }
};

/** Whether `pid` is dead within 5 s (SIGKILL is delivered, not instant). */
async function dies(pid: number): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  while (alive(pid) && Date.now() < deadline) await sleep(20);
  return !alive(pid);
}

/** Asks the kernel for `pid` as the next PID (root only) and starts a group leader on it, as another run would. */
async function groupLeaderOn(pid: number): Promise<ChildProcess | undefined> {
  // Other processes on the machine fork too: retry until this spawn is the one that gets the number.
  for (let attempt = 0; attempt < 500; attempt++) {
    fs.writeFileSync(NS_LAST_PID, String(pid - 1));
    const child = spawn('/bin/sleep', ['30'], { detached: true, stdio: 'ignore' });
    started.push(child);
    if (child.pid === pid) return child;
    child.kill('SIGKILL');
    await sleep(5);
  }
  return undefined;
}

const root = process.getuid?.() === 0 && fs.existsSync(NS_LAST_PID);

describe('ProcessSupervisor', () => {
  it.skipIf(!root)('stopping a process that already exited leaves alone the new group that took its PID', async () => {
    const supervisor = new ProcessSupervisor();
    const gone = supervisor.start('gone', '/bin/true', [], { logPath: path.join(dir, 'gone.log') });
    expect(await gone.exited).toBe('code 0');
    const other = await groupLeaderOn(gone.pid);
    expect(other?.pid, `no spawn got PID ${gone.pid} back in 500 tries`).toBe(gone.pid);
    // As a teardown stops an instance whose app crashed or failed to boot minutes earlier.
    await supervisor.stop(gone);
    await sleep(200);
    expect(other?.signalCode ?? null).toBeNull();
    expect(alive(gone.pid)).toBe(true);
  });

  it('a master that exits takes the workers it left in its group with it', async () => {
    const supervisor = new ProcessSupervisor();
    const pidFile = path.join(dir, 'worker.pid');
    const master = supervisor.start('master', '/bin/sh', ['-c', `sleep 30 & echo $! > ${pidFile}; exit 0`], { logPath: path.join(dir, 'master.log') });
    expect(await master.exited).toBe('code 0');
    const worker = Number(fs.readFileSync(pidFile, 'utf8').trim());
    expect(worker).toBeGreaterThan(0);
    expect(await dies(worker)).toBe(true);
  });

  it('stop after the grace kills the group of a master that ignores the signal', async () => {
    const supervisor = new ProcessSupervisor();
    const pidFile = path.join(dir, 'stubborn-worker.pid');
    const master = supervisor.start('stubborn', '/bin/sh', ['-c', `trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait`], { logPath: path.join(dir, 'stubborn.log') });
    const deadline = Date.now() + 5_000;
    while (!fs.existsSync(pidFile) && Date.now() < deadline) await sleep(20);
    const worker = Number(fs.readFileSync(pidFile, 'utf8').trim());
    await supervisor.stop(master, 'SIGTERM', 300);
    expect(master.exitReason()).toBe('signal SIGKILL');
    expect(await dies(worker)).toBe(true);
  });
});
