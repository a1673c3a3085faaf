// A throwaway PostgreSQL 15 (Debian's) on loopback, run as the postgres user from its own data dir.
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ephemeralPort } from '../../lib/rehearsal/net';

const BIN = '/usr/lib/postgresql/15/bin';

export class TestPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(parent: string): Promise<TestPostgres> {
    const dir = join(parent, 'postgres');
    mkdirSync(dir, { recursive: true });
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    const pg = new TestPostgres(dir, await ephemeralPort('127.0.0.1'));
    pg.asPostgres(`${BIN}/initdb`, ['-D', join(dir, 'data'), '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8']);
    pg.startServer();
    return pg;
  }

  private asPostgres(cmd: string, args: string[]): string {
    return execFileSync('/usr/sbin/runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', timeout: 60_000, cwd: this.dir });
  }

  startServer(): void {
    const options = `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c fsync=off`;
    this.asPostgres(`${BIN}/pg_ctl`, ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-o', options, '-w', 'start']);
  }

  stopServer(): void {
    this.asPostgres(`${BIN}/pg_ctl`, ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop']);
  }

  sql(statement: string, database = 'postgres'): string {
    return this.asPostgres('/usr/bin/psql', ['-h', this.dir, '-p', String(this.port), '-U', 'postgres', '-d', database, '-Atqc', statement]);
  }

  /** A database and its owner; returns the DATABASE_URL the app reads. */
  createDatabase(name: string, password: string): string {
    this.sql(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
    this.sql(`CREATE DATABASE ${name} OWNER ${name}`);
    return `postgres://${name}:${password}@127.0.0.1:${this.port}/${name}`;
  }
}
