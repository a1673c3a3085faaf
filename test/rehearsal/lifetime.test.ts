// Nothing a rehearsal starts outlives it: not when Ctrl-C arrives during start-up, not when the
// rehearsal itself gets SIGKILL, and a later run stops what a dead run left behind, found by its
// work directory. The rehearsal runs as one real Node process (node --import tsx), so the PID the
// test signals is the rehearsal's own.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probe } from '../../lib/rehearsal/net';
import { findLeftovers, processStartTime, RUN_FILE } from '../../lib/rehearsal/run-guard';
import { REPO_ROOT } from '../helpers/settings';

// The runs' work directories share a parent of their own: a run stops only the leftovers of dead runs
// beside it, so rehearsals of other test files, in other directories, neither see nor touch these.
const BASE = fs.mkdtempSync(path.join(os.tmpdir(), 'gl-lifetime-'));
const dirs: string[] = [BASE];
const newDir = (parent = BASE) => {
  const dir = fs.mkdtempSync(path.join(parent, 'run-'));
  dirs.unshift(dir);
  return dir;
};
const planted: number[] = [];
afterAll(() => {
  // Only groups that still have a planted member: a group stopped during the tests is empty, and its
  // number may lead another file's group by now (PIDs wrap), which must not be killed.
  const left = new Set(processes().filter((p) => p.cmdline.startsWith('sleep 300')).map((p) => p.pgid));
  for (const pgid of planted.filter((g) => left.has(g))) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

interface ProcInfo {
  readonly pid: number;
  readonly pgid: number;
  readonly cwd: string;
  readonly cmdline: string;
}

function processes(): ProcInfo[] {
  return fs.readdirSync('/proc').flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') return [];
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      let cwd = '';
      try {
        cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // Not readable.
      }
      return [{ pid: Number(entry), pgid: Number(fields[2]), cwd, cmdline }];
    } catch {
      return [];
    }
  });
}

/** Processes that run in `dir` or name it, and every member of the groups in its run file. */
function survivors(dir: string, groups: readonly number[] = []): ProcInfo[] {
  return processes().filter((p) => p.pid !== process.pid && (p.cwd.startsWith(dir) || p.cmdline.includes(dir) || groups.includes(p.pgid)));
}

const recordedGroups = (dir: string): number[] => {
  const file = path.join(dir, RUN_FILE);
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('group '))
    .map((l) => Number(l.split(' ')[1]));
};

/** Polls `condition` every 50 ms until it holds or `ms` pass; resolves with its last value. */
async function waitUntil<T>(condition: () => T, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let value = condition();
  while (!value && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = condition();
  }
  return value;
}

/**
 * The rehearsal as one Node process (the PID is the rehearsal's), or `from a terminal`: through tsx as
 * `npm run rehearse` runs it, in a process group of its own that Ctrl-C reaches as a whole.
 */
function startRehearsal(workDir: string, how: 'one process' | 'from a terminal' = 'one process') {
  const args = ['bin/greenlight.ts', 'rehearse', '--time-scale', '0.05', '--rate', '20', '--concurrency', '2', '--workers', '1', '--work-dir', workDir];
  const child =
    how === 'one process'
      ? spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  child.stdout?.on('data', (d) => (text += d));
  child.stderr?.on('data', (d) => (text += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child: child as ChildProcess, output: () => text, exited };
}

/** Waits until the rehearsal is booting blue and one of its servers runs: the middle of start-up. */
async function midStartUp(run: ReturnType<typeof startRehearsal>, workDir: string): Promise<void> {
  const booting = await waitUntil(() => run.output().includes('blue booting') && survivors(workDir).some((p) => p.cmdline.startsWith('nginx')), 60_000);
  expect(booting, run.output()).toBe(true);
}

/** A dead run's leftover: a group whose leader runs in `dir`, with a member that does not name it. */
function plantGroup(cwd: string): number {
  const child = spawn('/bin/sh', ['-c', '(cd / && exec sleep 300) & exec sleep 300'], { cwd, detached: true, stdio: 'ignore' });
  child.unref();
  planted.push(child.pid as number);
  return child.pid as number;
}

/** A run file whose owner has exited. */
async function deadRun(dir: string, groups: readonly number[]): Promise<void> {
  const owner = spawn('/bin/true');
  await new Promise((resolve) => owner.on('close', resolve));
  fs.writeFileSync(path.join(dir, RUN_FILE), [`owner ${owner.pid} 1`, ...groups.map((g) => `group ${g}`)].join('\n') + '\n');
}

describe('no process outlives the rehearsal', () => {
  it('SIGKILL during start-up: the watchdog stops everything it started; that run had stopped a dead run’s leftovers first', async () => {
    // A dead run's leftover group, which this run must find by the old run's work directory.
    const oldRun = newDir();
    fs.mkdirSync(path.join(oldRun, 'blue-1'));
    const leftover = plantGroup(path.join(oldRun, 'blue-1'));
    await deadRun(oldRun, [leftover]);
    expect(await waitUntil(() => processes().filter((p) => p.pgid === leftover).length === 2, 5_000)).toBe(true);

    const workDir = newDir();
    const run = startRehearsal(workDir);
    await midStartUp(run, workDir);
    expect(run.output()).toContain(`stopped process group ${leftover} `);
    expect(processes().filter((p) => p.pgid === leftover)).toEqual([]);

    const groups = recordedGroups(workDir);
    expect(groups.length).toBeGreaterThan(0);
    run.child.kill('SIGKILL');
    expect(await run.exited).toMatchObject({ signal: 'SIGKILL' });
    const left = await waitUntil(() => survivors(workDir, groups).length === 0, 10_000);
    expect(left, JSON.stringify(survivors(workDir, groups))).toBe(true);
  }, 120_000);

  it('Ctrl-C at the terminal during start-up, through tsx: exits 130 and leaves nothing running or listening', async () => {
    const workDir = newDir();
    const run = startRehearsal(workDir, 'from a terminal');
    await midStartUp(run, workDir);
    const groups = recordedGroups(workDir);
    // The terminal sends SIGINT to every process of the foreground group. tsx relays it too, and
    // kills its child with SIGKILL when the child does not acknowledge within 30 ms (a busy machine).
    process.kill(-(run.child.pid as number), 'SIGINT');
    expect(await run.exited).toMatchObject({ code: 130 });
    const gone = await waitUntil(() => survivors(workDir, groups).length === 0, 10_000);
    expect(gone, JSON.stringify(survivors(workDir, groups))).toBe(true);
    const port = Number(run.output().match(/on 127\.0\.1\.1, 127\.0\.1\.2 port (\d+)/)?.[1]);
    expect(port).toBeGreaterThan(0);
    for (const address of ['127.0.1.1', '127.0.1.2']) expect(await probe(address, port, '/health/', address, 1_000)).toBe('ECONNREFUSED');
  }, 120_000);

  it('Ctrl-C to the rehearsal during start-up: stops everything before it exits 130', async () => {
    const workDir = newDir();
    const run = startRehearsal(workDir);
    await midStartUp(run, workDir);
    const groups = recordedGroups(workDir);
    run.child.kill('SIGINT');
    expect(await run.exited).toMatchObject({ code: 130 });
    expect(run.output()).toContain("SIGINT: stopping the rehearsal's processes");
    // Stopped by the rehearsal itself, before it exited: no waiting here.
    expect(survivors(workDir, groups)).toEqual([]);
    expect(fs.existsSync(path.join(workDir, RUN_FILE))).toBe(false);
  }, 120_000);

  it('a later run stops only groups a dead run recorded, never those of a live run or ones it did not start', async () => {
    const dead = newDir();
    const recorded = plantGroup(dead);
    const unrecorded = plantGroup(dead);
    await deadRun(dead, [recorded]);
    const live = newDir();
    const ofLiveRun = plantGroup(live);
    fs.writeFileSync(path.join(live, RUN_FILE), `owner ${process.pid} ${processStartTime(process.pid)}\ngroup ${ofLiveRun}\n`);

    // A dead run kept elsewhere is not this directory's to clean up.
    const elsewhere = newDir(newDir());
    const ofRunElsewhere = plantGroup(elsewhere);
    await deadRun(elsewhere, [ofRunElsewhere]);
    await waitUntil(() => [recorded, unrecorded, ofLiveRun, ofRunElsewhere].every((g) => processes().filter((p) => p.pgid === g).length === 2), 5_000);

    expect(findLeftovers(BASE)).toEqual([{ runFile: path.join(dead, RUN_FILE), pgid: recorded, pids: [recorded] }]);
    expect(findLeftovers(path.dirname(elsewhere))).toEqual([{ runFile: path.join(elsewhere, RUN_FILE), pgid: ofRunElsewhere, pids: [ofRunElsewhere] }]);
  });
});
