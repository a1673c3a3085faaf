// A throwaway PostgreSQL cluster for the db-down scenario: Debian's server binaries on the
// rehearsal's own data directory and port, loopback only, stopped on purpose during green's boot.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ManagedProcess, ProcessSupervisor } from './processes';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The newest /usr/lib/postgresql/<major>/bin, or undefined when the server is not installed. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!fs.existsSync(base)) return undefined;
  const majors = fs
    .readdirSync(base)
    .filter((d) => fs.existsSync(path.join(base, d, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length > 0 ? path.join(base, majors[0], 'bin') : undefined;
}

/** The postgres system user's uid/gid when running as root (initdb refuses to run as root). */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export class Postgres {
  private proc?: ManagedProcess;
  /** The cluster lives in its own temporary directory: the postgres user may not reach the run directory. */
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-postgres-'));

  constructor(
    /** Where the server log is copied when the cluster is removed. */
    private readonly logDir: string,
    readonly port: number,
    private readonly supervisor: ProcessSupervisor,
  ) {
    supervisor.claim(this.dir);
  }

  /** `postgres://postgres@127.0.0.1:<port>/<db>`: trust authentication on loopback only. */
  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** initdb, start, wait for connections, create the database. */
  async start(database: string): Promise<void> {
    const bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql; install the postgresql package');
    const user = serverUser();
    const data = path.join(this.dir, 'data');
    const sockets = path.join(this.dir, 'sockets');
    fs.mkdirSync(sockets, { recursive: true });
    if (user) {
      fs.chownSync(this.dir, user.uid, user.gid);
      fs.chownSync(sockets, user.uid, user.gid);
    }
    const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };
    const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'], {
      encoding: 'utf8',
      env,
      ...user,
    });
    if (init.status !== 0) throw new Error(`initdb failed: ${(init.stderr || init.error?.message || '').trim()}`);
    const log = path.join(this.dir, 'postgres.log');
    fs.writeFileSync(log, '');
    if (user) fs.chownSync(log, user.uid, user.gid);
    this.proc = this.supervisor.start(
      'postgres',
      path.join(bin, 'postgres'),
      ['-D', data, '-p', String(this.port), '-k', sockets, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      { logPath: log, env, ...(user ? { uid: user.uid, gid: user.gid } : {}) },
    );
    const deadline = Date.now() + 30_000;
    while (!this.ready(bin)) {
      if (this.proc.exitReason() !== undefined || Date.now() > deadline) {
        throw new Error(`PostgreSQL did not start (${this.proc.exitReason() ?? 'timeout'}); see ${log}`);
      }
      await sleep(100);
    }
    const create = spawnSync(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', database], {
      encoding: 'utf8',
      env,
    });
    if (create.status !== 0) throw new Error(`createdb ${database} failed: ${create.stderr.trim()}`);
  }

  /** pg_isready: accepting connections, past the "database system is starting up" phase. */
  private ready(bin: string): boolean {
    const args = ['-q', '-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-t', '1'];
    return spawnSync(path.join(bin, 'pg_isready'), args, { stdio: 'ignore' }).status === 0;
  }

  /** Fast shutdown (SIGINT): open connections are cut, as in an outage. */
  async stop(): Promise<void> {
    if (this.proc) await this.supervisor.stop(this.proc, 'SIGINT', 10_000);
  }

  /** Stops the server if needed and deletes the cluster, keeping its log. */
  async remove(): Promise<void> {
    await this.stop();
    const log = path.join(this.dir, 'postgres.log');
    if (fs.existsSync(log)) fs.copyFileSync(log, path.join(this.logDir, 'postgres.log'));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The app's database for a local run, and the line that says which it is. */
export interface AppDatabase {
  /** Over the local defaults: DATABASE_URL of the PostgreSQL started here, or nothing when the configuration names one. */
  readonly config: Readonly<Record<string, string>>;
  readonly said: string;
}

/**
 * PostgreSQL, as the health contract asks, started for the app unless the given configuration names
 * a database (`DATABASE_URL` in `--env-file`), which is then used as it is. Either way, says which.
 */
export async function appDatabase(
  given: Readonly<Record<string, string>> | undefined,
  logDir: string,
  port: number,
  supervisor: ProcessSupervisor,
  cleanups: Array<() => Promise<void>>,
): Promise<AppDatabase> {
  const url = given?.DATABASE_URL;
  if (url !== undefined) {
    // The scheme and host only: the URL may carry a password.
    const where = /^([a-z0-9+.-]+):\/\/(?:[^@/]*@)?([^/?]*)/i.exec(url);
    return { config: {}, said: `the app's own DATABASE_URL from --env-file (${where ? `${where[1]}://${where[2] || 'localhost'}` : 'as given'}); it is migrated as first boot migrates` };
  }
  const db = new Postgres(logDir, port, supervisor);
  cleanups.push(() => db.remove());
  await db.start('app');
  return { config: { DATABASE_URL: db.url('app') }, said: `PostgreSQL on 127.0.0.1:${port}, database app, removed at the end (DATABASE_URL in --env-file to use another)` };
}
