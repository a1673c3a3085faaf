// `greenlight doctor`: boots the app once on loopback the way an instance boots (the release image,
// userdata/bootstrap.sh, the baked unit and nginx site with the TLS redirect on), then looks at it as a
// load balancer would, and probes the rest of the health contract with the app's own code.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadManifest, type AppManifest } from '../manifest/load';
import { checkMigrations, releaseCode } from '../migrations/check';
import { UserError } from '../errors';
import type { EnvironmentSettings } from '../config/schema';
import { configParameters, startFakeImds, startStubSsm } from '../rehearsal/fake-aws';
import { firstCause } from '../rehearsal/first-boot';
import { loadHostHeader } from '../rehearsal/blue';
import { appUserIds, BakeError, bakeImage, localAppConfig, type ReleaseImage } from '../rehearsal/image';
import { Instance } from '../rehearsal/instance';
import { ephemeralPort } from '../rehearsal/net';
import { appDatabase } from '../rehearsal/postgres';
import { ProcessSupervisor } from '../rehearsal/processes';
import { SystemctlServer } from '../rehearsal/systemctl';
import {
  bakeRow,
  bootRow,
  CHECKS,
  migrationSafetyRow,
  dbTimeoutRow,
  healthRows,
  hostValidatedRow,
  pagesRow,
  settingsFix,
  migrationsRow,
  modelsRow,
  notBaked,
  notBooted,
  pathRow,
  requiredConfigRow,
  type CheckRow,
  type HealthAnswer,
  type WithoutVariable,
} from './checks';
import { FOREIGN_HOST, healthCheck, page, unansweringDatabase } from './probes';

export interface DoctorOptions {
  /** The cdk.json app name, as on the instance. */
  readonly app: string;
  readonly appDir: string;
  /** The live release's project: the migration check runs against it. @default no migration check */
  readonly liveAppDir?: string;
  readonly environment: string;
  readonly settings: EnvironmentSettings;
  /** The app's configuration, over the defaults (SECRET_KEY, a SQLite DATABASE_URL, ALLOWED_HOSTS). */
  readonly config?: Readonly<Record<string, string>>;
  /** packer/files and userdata/ come from here. */
  readonly repoRoot: string;
  /** This run's files and logs (created). */
  readonly workDir: string;
  /** The instance's loopback address. @default 127.0.3.1 */
  readonly address?: string;
  readonly log?: (line: string) => void;
}

const PATH = '/usr/bin:/bin';

interface Finished {
  readonly code: number | null;
  readonly output: string;
  /** Killed at the deadline. */
  readonly killed: boolean;
}

/** Runs the release's python as the app user in the app directory, with `env`; never throws. */
function python(
  cwd: string,
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
  onLine?: (line: string, killAfter: (ms: number) => void) => void,
): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(path.join(cwd, '..', 'venv', 'bin', 'python'), [...args], { cwd, env, ...appUserIds(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let killed = false;
    const timers: NodeJS.Timeout[] = [];
    const killAfter = (ms: number) => {
      timers.push(
        setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, ms),
      );
    };
    const collect = (d: Buffer) => {
      output += d;
      if (onLine) for (const line of String(d).split('\n').filter(Boolean)) onLine(line, killAfter);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    killAfter(timeoutMs);
    child.on('error', (err) => {
      timers.forEach(clearTimeout);
      resolve({ code: -1, output: err.message, killed });
    });
    child.on('close', (code) => {
      timers.forEach(clearTimeout);
      resolve({ code, output, killed });
    });
  });
}

const IMPORT_WSGI = 'import importlib, os, sys; sys.path.insert(0, os.getcwd()); importlib.import_module(sys.argv[1])';
const CONNECT = [
  'import os, sys, time',
  'sys.path.insert(0, os.getcwd())',
  'import django',
  'django.setup()',
  'from django.db import connection',
  'print("vendor", connection.vendor, flush=True)',
  'started = time.monotonic()',
  'try:',
  '    connection.ensure_connection()',
  'except Exception as error:',
  '    print("gave-up %.3f %s" % (time.monotonic() - started, type(error).__name__), flush=True)',
  'else:',
  '    print("connected", flush=True)',
].join('\n');

class Doctor {
  private readonly supervisor = new ProcessSupervisor();
  private readonly cleanups: Array<() => Promise<void>> = [];
  private readonly manifest: AppManifest;
  private readonly address: string;
  private readonly healthTimeoutMs: number;
  private readonly log: (line: string) => void;

  constructor(private readonly o: DoctorOptions) {
    this.manifest = loadManifest(o.appDir);
    this.address = o.address ?? '127.0.3.1';
    this.healthTimeoutMs = o.settings.healthCheck.timeout * 1000;
    this.log = o.log ?? (() => undefined);
  }

  async run(): Promise<CheckRow[]> {
    this.supervisor.installExitHandlers(async () => this.stop());
    try {
      return await this.checks();
    } finally {
      // A signal's stop killed what the checks were waiting on: its exit code (130/143) is the outcome.
      if (this.supervisor.signalStop) await this.supervisor.signalStop;
      await this.stop();
      this.supervisor.uninstallExitHandlers();
    }
  }

  private async stop(): Promise<void> {
    await this.supervisor.stopAll();
    for (const cleanup of this.cleanups.splice(0)) await cleanup().catch(() => undefined);
  }

  private async checks(): Promise<CheckRow[]> {
    const { o, manifest } = this;
    fs.mkdirSync(o.workDir, { recursive: true });
    fs.chmodSync(o.workDir, 0o755);
    this.log(`baking ${o.appDir} as a release image`);
    let image: ReleaseImage;
    try {
      image = bakeImage({ dir: path.join(o.workDir, 'image'), app: o.app, release: 'doctor', appSource: o.appDir, packerFiles: path.join(o.repoRoot, 'packer', 'files') });
    } catch (error) {
      if (!(error instanceof BakeError)) throw error;
      const rest = Object.values(CHECKS).filter((c) => c !== CHECKS.bake && c !== CHECKS.path && (c !== CHECKS.migrationSafety || o.liveAppDir));
      return [pathRow(manifest.healthPath, o.environment, o.settings.healthCheck.path), bakeRow({ ok: false, step: error.step, cause: error.cause }), ...notBaked(rest)];
    }
    const database = await appDatabase(o.config, o.workDir, await ephemeralPort(), this.supervisor, this.cleanups);
    this.log(`database: ${database.said}`);
    const config = localAppConfig(path.join(o.workDir, 'db'), { ...database.config, ...o.config });

    const root = path.join(o.workDir, 'instance');
    // The release directory the instance runs, ready before its first boot.
    const appDir = path.join(image.root, 'opt', o.app, 'current', 'app');
    // The app's own code, as the unit runs it: its settings, the instance IP file, the configuration.
    const appEnv = (overrides: Record<string, string> = {}, without?: string) => {
      const env: Record<string, string> = {
        PATH,
        LANG: 'C.UTF-8',
        HOME: o.workDir,
        DJANGO_SETTINGS_MODULE: manifest.settings,
        GREENLIGHT_IPV4_FILE: path.join(root, 'etc', 'aws', 'ipv4'),
        ...config,
        ...overrides,
      };
      if (without) delete env[without];
      return env;
    };

    const [boot, requiredConfig, dbTimeout] = await Promise.all([
      this.boot(image, root, config),
      this.withoutEachRequired(appDir, appEnv),
      this.dbTimeout(appDir, appEnv),
    ]);
    const rows: CheckRow[] = [
      pathRow(manifest.healthPath, o.environment, o.settings.healthCheck.path),
      bakeRow({ ok: true, detail: 'the requirements and the static step installed as on the AMI' }),
      bootRow(boot.result),
      requiredConfig,
    ];
    if (boot.result.ok) {
      const context = { healthPath: manifest.healthPath, address: this.address, timeoutMs: this.healthTimeoutMs };
      rows.push(...healthRows(await this.healthAnswer(boot.port), context));
      const foreign = await healthCheck(this.address, boot.port, manifest.healthPath, this.healthTimeoutMs, FOREIGN_HOST);
      rows.push(hostValidatedRow(foreign, { ...context, foreignHost: FOREIGN_HOST }));
      const paths = [...new Set(['/', ...(o.settings.smoke?.paths ?? [])])];
      const pages = [];
      for (const p of paths) pages.push(await page(this.address, boot.port, p, loadHostHeader(config), (o.settings.smoke?.timeout ?? 10) * 1000));
      rows.push(pagesRow(pages, boot.instance.lastException(), boot.instance.appLog));
      const manage = (...args: string[]) => python(appDir, ['manage.py', ...args], appEnv(), 120_000);
      const [unapplied, models] = await Promise.all([manage('migrate', '--check', '--no-input'), manage('makemigrations', '--check', '--dry-run', '--no-input')]);
      rows.push(migrationsRow(unapplied, manifest.migrate), modelsRow(models));
    } else {
      rows.push(...notBooted(CHECKS.host, CHECKS.slash, CHECKS.https, CHECKS.health, CHECKS.hostValidated, CHECKS.pages, CHECKS.migrations, CHECKS.models));
    }
    rows.push(dbTimeout);
    if (o.liveAppDir) rows.push(await this.migrationSafety(o.liveAppDir, image, config));
    return rows;
  }

  /** The migration check: the live release baked beside this one, each read by its own python. */
  private async migrationSafety(liveAppDir: string, image: ReturnType<typeof bakeImage>, config: Record<string, string>): Promise<CheckRow> {
    const { o } = this;
    this.log(`baking ${liveAppDir} as the live release, for the migration check`);
    try {
      const live = bakeImage({ dir: path.join(o.workDir, 'live-image'), app: o.app, release: 'live', appSource: liveAppDir, packerFiles: path.join(o.repoRoot, 'packer', 'files') });
      const check = await checkMigrations({
        live: releaseCode(live, `the live release (${liveAppDir})`),
        next: releaseCode(image, `the new release (${o.appDir})`),
        config,
        acknowledgements: this.manifest.acceptBreakingMigrations,
      });
      return migrationSafetyRow(check, liveAppDir);
    } catch (err) {
      if (err instanceof UserError) return migrationSafetyRow({ error: err.message }, liveAppDir);
      throw err;
    }
  }

  /** First boot with the TLS redirect on: the health path must still not be redirected. */
  private async boot(image: ReleaseImage, root: string, config: Record<string, string>) {
    const { o } = this;
    const ssm = await startStubSsm(configParameters(o.app, o.environment, config));
    const imds = await startFakeImds({ localIpv4: this.address, instanceId: 'i-0000000000d0c7012' });
    const systemctl = await SystemctlServer.start();
    this.cleanups.push(ssm.close, imds.close, () => systemctl.close());
    const port = await ephemeralPort(this.address);
    const instance = new Instance(
      { name: 'doctor', address: this.address, port, image, root, environment: o.environment, region: o.settings.region, imdsUrl: imds.url, ssmUrl: ssm.url, systemctl, tls: true },
      this.supervisor,
    );
    this.log(`first boot on ${this.address}:${port}: ${path.join(root, 'var', 'log', 'bootstrap.log')}`);
    return { result: await instance.start(), port, instance };
  }

  /**
   * The answer to a check after the first: a load balancer judges repeated checks, so a cold first
   * request (imports, connections) does not decide. Up to three tries while nothing answers at all.
   */
  private async healthAnswer(port: number): Promise<HealthAnswer> {
    const check = () => healthCheck(this.address, port, this.manifest.healthPath, this.healthTimeoutMs);
    let answer = await check();
    for (let attempt = 0; attempt < 3; attempt++) {
      const next = await check();
      if (typeof next.status === 'number' || typeof answer.status !== 'number') answer = next;
      if (typeof answer.status === 'number') return answer;
    }
    return answer;
  }

  /** The WSGI module imports with the whole configuration, and refuses without each required name. */
  private async withoutEachRequired(appDir: string, appEnv: (o?: Record<string, string>, without?: string) => Record<string, string>): Promise<CheckRow> {
    const module = this.manifest.wsgi.split(':')[0];
    const importWsgi = (env: Record<string, string>) => python(appDir, ['-c', IMPORT_WSGI, module], env, 120_000);
    const baseline = await importWsgi(appEnv());
    if (baseline.code !== 0) {
      const cause = firstCause(baseline.output.split('\n')) ?? `exit ${baseline.code}`;
      return {
        check: CHECKS.requiredConfig,
        status: 'fail',
        detail: `${module} does not import even with the whole configuration: ${cause}`,
        fix: settingsFix(cause, appEnv(), 'make the WSGI module import with the configuration given (see the cause)'),
      };
    }
    const results: WithoutVariable[] = [];
    for (const name of this.manifest.requiredEnv) {
      const run = await importWsgi(appEnv({}, name));
      results.push({ name, refused: run.code !== 0 && !run.killed, ...(run.code !== 0 ? { cause: firstCause(run.output.split('\n')) } : {}) });
    }
    return requiredConfigRow(results);
  }

  /** Connects to a database that never answers, through the app's own settings and DATABASE_URL. */
  private async dbTimeout(appDir: string, appEnv: (o?: Record<string, string>) => Record<string, string>): Promise<CheckRow> {
    const db = await unansweringDatabase();
    this.cleanups.push(db.close);
    let connectStarted: number | undefined;
    // Settings load at their own pace (a busy machine); the connect alone gets the deadline.
    const run = await python(
      appDir,
      ['-c', CONNECT],
      appEnv({ DATABASE_URL: `postgres://doctor:doctor@127.0.0.1:${db.port}/doctor` }),
      120_000,
      (line, killAfter) => {
        if (!line.startsWith('vendor ')) return;
        connectStarted = Date.now();
        killAfter(this.healthTimeoutMs + 3_000);
      },
    );
    const vendor = /^vendor (\S+)/m.exec(run.output)?.[1];
    const gaveUp = /^gave-up ([\d.]+)/m.exec(run.output);
    if (!vendor) {
      const cause = firstCause(run.output.split('\n')) ?? `exit ${run.code}`;
      return {
        check: CHECKS.dbTimeout,
        status: 'fail',
        detail: `the app's settings did not load with a PostgreSQL DATABASE_URL: ${cause}`,
        fix: settingsFix(cause, appEnv(), /DATABASE|database/.test(cause) ? 'take the database from DATABASE_URL' : 'make the settings load with the configuration given (see the cause)'),
      };
    }
    const elapsedMs = gaveUp ? Math.round(Number(gaveUp[1]) * 1000) : Date.now() - (connectStarted ?? Date.now());
    return dbTimeoutRow({ vendor, elapsedMs, hung: !gaveUp && !/^connected/m.test(run.output) }, this.healthTimeoutMs);
  }
}

/** Boots the app once and returns the contract's rows; every process it started is stopped. */
export function doctor(options: DoctorOptions): Promise<CheckRow[]> {
  return new Doctor(options).run();
}
