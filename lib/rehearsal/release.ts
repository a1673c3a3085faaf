// One blue/green release played on this machine, in the phases AWS plays: blue (release A) serves under
// load; green (release B) boots and registers with the load balancer; the gate polls; smoke checks go
// through the preview route; the listener moves to green; a bake window watches green's backend; only
// after a clean bake does blue drain and stop. A failed gate or smoke check deregisters and stops green
// before any user reaches it; a failed bake switches the listener back to blue, which still runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BakePolicy } from '../bake/evaluate';
import type { EnvironmentSettings } from '../config/schema';
import type { GatePolicy } from '../health-gate/types';
import { runBake, type BakeRun } from './bake';
import { dropAppTables } from './database-fault';
import { runGate, type GateRun } from './gate';
import {
  addServerCommand,
  checkSettingsFrom,
  cutoverCommand,
  enableServerCommands,
  renderHaproxyConfig,
  renderLiveMap,
  type CheckSettings,
} from './haproxy-config';
import type { BackendCounters, InstanceProcessState, ServerStatus } from './haproxy-state';
import { loadManifest, type AppManifest } from '../manifest/load';
import { UserError } from '../errors';
import { configParameters, startFakeImdsFleet, startStubSsm } from './fake-aws';
import { localAppConfig } from './image';
import { bakeImage, Instance, type BootResult, type ReleaseImage } from './instance';
import { LoadGenerator, type LoadResult } from './load';
import { ephemeralPort, instancePort, probe } from './net';
import { Postgres } from './postgres';
import { ProcessSupervisor, type ManagedProcess } from './processes';
import type { BakeReport, RehearsalReport, RollbackReport, SmokeReport, TimelineEntry } from './report';
import { RunGuard } from './run-guard';
import { RuntimeApi } from './runtime-api';
import { MidGateScaleOut } from './scale-out';
import type { ReleaseOutcome, Scenario } from './scenarios';
import { runSmoke } from './smoke';
import { SystemctlServer } from './systemctl';

export interface RehearsalOptions {
  readonly app: string;
  readonly environment: string;
  readonly settings: EnvironmentSettings;
  readonly scenario: Scenario;
  /** Multiplies every health-check and gate duration. 1 = the configuration as is. */
  readonly timeScale: number;
  /** Instances per release. @default the environment's desired capacity */
  readonly instances?: number;
  /** gunicorn workers per instance (WEB_CONCURRENCY). @default 2 */
  readonly workers?: number;
  /** Load: concurrent keep-alive clients and total requests per second. @default 8 clients, 100/s */
  readonly concurrency?: number;
  readonly ratePerSecond?: number;
  /** Port every instance listens on. @default 80 when free, else a free port */
  readonly port?: number;
  /** Directory for this run's files and logs (created). */
  readonly workDir: string;
  /** The repository: packer/files and userdata/bootstrap.sh come from here. */
  readonly repoRoot: string;
  /** The Django project of the live release (blue). @default examples/django-app */
  readonly appDir?: string;
  /** The Django project of the new release (green). @default appDir */
  readonly appGreenDir?: string;
  /** The app's configuration, as SSM Parameter Store holds it for the environment (over the defaults). */
  readonly config?: Readonly<Record<string, string>>;
  readonly blueRelease?: string;
  readonly greenRelease?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /**
   * Start the gate once every green instance has finished first boot (and the scenario's database is
   * down), instead of at launch. Tests use it so that a failing release's verdict comes from what
   * green answers, never from whether a busy machine booted green within the gate's timeout.
   * @default false
   */
  readonly gateAfterBoot?: boolean;
  /** Called while everything still runs, after the release and before cleanup (tests look around here). */
  readonly onFinished?: (live: LiveRehearsal) => Promise<void>;
  /** A scenario that rolls back to the standby: called with blue's instances just before the rollback command. */
  readonly onRollbackCommand?: (standby: readonly Instance[]) => Promise<void>;
}

/** The running rehearsal, handed to onFinished. */
export interface LiveRehearsal {
  readonly frontend: { readonly address: string; readonly port: number };
  readonly blue: readonly Instance[];
  readonly green: readonly Instance[];
  readonly servingRelease: string;
  readonly api: RuntimeApi;
  readonly hostHeader: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Host the load sends: the first plain name in ALLOWED_HOSTS, as real users would reach the app. */
export function loadHostHeader(config: Readonly<Record<string, string>>): string {
  const names = (config.ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().replace(/^\./, ''));
  return names.find((h) => /^[A-Za-z0-9.-]+$/.test(h)) ?? 'localhost';
}

/** The gate policy for a release of `instances`, with durations scaled. */
export function gatePolicyFrom(settings: EnvironmentSettings, instances: number, timeScale: number): GatePolicy {
  return {
    expectedInstances: instances,
    consecutiveHealthyPolls: settings.gate.consecutiveHealthyPolls,
    pollIntervalMs: Math.max(1, Math.round(settings.gate.pollInterval * 1000 * timeScale)),
    timeoutMs: Math.max(1, Math.round(settings.gate.timeout * 1000 * timeScale)),
    maxReplacedInstances: settings.gate.maxReplacedInstances,
  };
}

/**
 * The bake policy, with its duration scaled. The rehearsal has no CloudWatch, so named alarms are not
 * watched here; HAProxy's counters are read live, so nothing needs time to settle.
 */
export function bakePolicyFrom(bake: NonNullable<EnvironmentSettings['bake']>, timeScale: number): BakePolicy {
  return {
    durationMs: Math.max(1, Math.round(bake.duration * 1000 * timeScale)),
    maxErrorRate: bake.maxErrorRate,
    maxErrors: bake.maxErrors,
    alarms: [],
    settleMs: 0,
  };
}

/**
 * Runs `body` with a supervisor whose processes all stop when it ends, fails or is interrupted; a
 * watchdog stops them if the rehearsal itself is killed, and a dead run's leftovers are stopped first.
 */
async function supervised<T>(options: RehearsalOptions, body: (release: Release) => Promise<T>): Promise<T> {
  const log = options.log ?? (() => undefined);
  fs.mkdirSync(options.workDir, { recursive: true });
  const guard = new RunGuard(options.workDir, log);
  const supervisor = new ProcessSupervisor(guard);
  const release = new Release(options, supervisor, log);
  supervisor.installExitHandlers(async (signal) => {
    log(`${signal}: stopping the rehearsal's processes`);
    await supervisor.stopAll();
    await release.cleanUp();
    guard.release();
  });
  try {
    return await body(release);
  } finally {
    // A signal's stop killed what the body was waiting on: its exit code (130/143) is the outcome.
    if (supervisor.signalStop) await supervisor.signalStop;
    // A boot still under way must not start anything once the rehearsal winds down.
    supervisor.close();
    await supervisor.stopAll();
    await release.cleanUp();
    guard.release();
    supervisor.uninstallExitHandlers();
  }
}

/** Plays the release and returns the report; every process it started is stopped before it returns. */
export function rehearse(options: RehearsalOptions): Promise<RehearsalReport> {
  return supervised(options, (release) => release.play());
}

/** The same fleet, load and new release, deployed by restarting gunicorn in place (for bench:cutover). */
export function restartInPlace(options: RehearsalOptions): Promise<{ load: LoadResult; timeline: readonly TimelineEntry[] }> {
  return supervised(options, (release) => release.restartInPlace());
}

class Release {
  private readonly started = Date.now();
  private readonly timeline: TimelineEntry[] = [];
  private readonly n: number;
  private readonly check: CheckSettings;
  private readonly greenCheck: CheckSettings;
  private readonly policy: GatePolicy;
  private readonly blueRelease: string;
  private readonly greenRelease: string;
  private readonly blueBackend: string;
  private readonly greenBackend: string;
  private api!: RuntimeApi;
  private readonly manifest: AppManifest;
  private readonly appDir: string;
  private readonly appGreenDir: string;
  private hostHeader = 'localhost';
  private systemctl!: SystemctlServer;
  private imds!: Awaited<ReturnType<typeof startFakeImdsFleet>>;
  /** Temporary resources outside the work directory, removed whatever happens. */
  private readonly cleanups: Array<() => Promise<void>> = [];

  constructor(
    private readonly o: RehearsalOptions,
    private readonly supervisor: ProcessSupervisor,
    private readonly log: (line: string) => void,
  ) {
    this.n = o.instances ?? o.settings.capacity.desired;
    this.appDir = o.appDir ?? path.join(o.repoRoot, 'examples', 'django-app');
    this.appGreenDir = o.appGreenDir ?? this.appDir;
    this.manifest = loadManifest(this.appDir);
    // The app's own health path: the one its nginx site serves unredirected.
    this.check = { ...checkSettingsFrom(o.settings.healthCheck, o.timeScale), path: this.manifest.healthPath };
    this.greenCheck = o.scenario.greenCheck?.(this.check) ?? this.check;
    this.policy = gatePolicyFrom(o.settings, this.n, o.timeScale);
    this.blueRelease = o.blueRelease ?? 'rehearsal-a';
    this.greenRelease = o.greenRelease ?? 'rehearsal-b';
    this.blueBackend = `release-${this.blueRelease}`;
    this.greenBackend = `release-${this.greenRelease}`;
  }

  async cleanUp(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) await cleanup().catch(() => undefined);
  }

  /** Seconds since the start, as progress lines show them. */
  private seconds(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)} s`;
  }

  private mark(phase: string, detail?: string): void {
    this.timeline.push({ atMs: Date.now() - this.started, phase, ...(detail ? { detail } : {}) });
    this.log(`[${this.seconds()}] ${phase}${detail ? `: ${detail}` : ''}`);
  }

  private dir(...parts: string[]): string {
    const dir = path.join(this.o.workDir, ...parts);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * A release's configuration in its own loopback SSM. The scenarios act here and in instance(), on
   * the environment and never on the app: green's SSM lacks the first name the manifest requires.
   */
  private async releaseSsm(color: 'blue' | 'green', image: ReleaseImage, config: Record<string, string>): Promise<string> {
    const own = { ...config };
    if (color === 'green' && this.o.scenario.greenMissesRequiredConfig) {
      const [first] = image.manifest.requiredEnv;
      if (!first) throw new UserError(`scenario ${this.o.scenario.name}: ${image.manifest.file} declares no required-env to leave out`);
      delete own[first];
    }
    const ssm = await startStubSsm(configParameters(this.o.app, this.o.environment, own));
    this.cleanups.push(ssm.close);
    return ssm.url;
  }

  private instances(color: 'blue' | 'green', image: ReleaseImage, port: number, ssmUrl: string): Instance[] {
    return Array.from({ length: this.n }, (_, i) => this.instance(color, i, image, port, ssmUrl));
  }

  /**
   * The i-th instance of a release (from 0); green's addresses follow blue's. Its IMDS gives its own
   * address, or with the bad-host scenario another one than the load balancer checks.
   */
  private instance(color: 'blue' | 'green', i: number, image: ReleaseImage, port: number, ssmUrl: string): Instance {
    const offset = color === 'blue' ? 0 : this.n;
    const name = `${color}-${i + 1}`;
    const address = `127.0.1.${offset + i + 1}`;
    const imdsUrl = this.imds.add(name, {
      localIpv4: color === 'green' && this.o.scenario.greenWrongIpv4 ? `127.0.9.${offset + i + 1}` : address,
      instanceId: `i-${(offset + i + 1).toString(16).padStart(17, '0')}`,
    });
    return new Instance(
      {
        name,
        address,
        port,
        image,
        root: this.dir(name),
        environment: this.o.environment,
        region: this.o.settings.region,
        imdsUrl,
        ssmUrl,
        systemctl: this.systemctl,
        tls: this.o.settings.listener.protocol === 'HTTPS',
      },
      this.supervisor,
    );
  }

  /** Common to every strategy: both release images, blue booted and serving, HAProxy, and the load. */
  private async setUp() {
    const o = this.o;
    const bake = (release: string, appSource: string) =>
      bakeImage({
        dir: this.dir(`image-${release}`),
        app: o.app,
        release,
        appSource,
        packerFiles: path.join(o.repoRoot, 'packer', 'files'),
      });
    // The app user reads the code and writes the SQLite database below the work directory.
    fs.chmodSync(o.workDir, 0o755);
    const blueImage = bake(this.blueRelease, this.appDir);
    const greenImage = bake(this.greenRelease, this.appGreenDir);
    if (this.manifest.healthPath !== o.settings.healthCheck.path) {
      this.mark('health path', `the app serves ${this.manifest.healthPath}; environment ${o.environment} checks ${o.settings.healthCheck.path}: set its healthCheck.path before deploying`);
    }
    // One address more when green scales out during the gate.
    const addresses = Array.from({ length: 2 * this.n + (o.scenario.greenScalesOutMidGate ? 1 : 0) }, (_, i) => `127.0.1.${i + 1}`);
    const port = o.port ?? (await instancePort(addresses));
    const config = { ...localAppConfig(this.dir('db'), o.config), WEB_CONCURRENCY: String(o.workers ?? 2) };
    this.hostHeader = loadHostHeader(config);
    this.systemctl = await SystemctlServer.start();
    this.imds = await startFakeImdsFleet();
    this.cleanups.push(() => this.systemctl.close(), this.imds.close);
    const blue = this.instances('blue', blueImage, port, await this.releaseSsm('blue', blueImage, config));

    this.mark('blue booting', `${this.n} instances of ${this.blueRelease} on ${addresses.slice(0, this.n).join(', ')} port ${port}`);
    const blueBoots = await Promise.all(blue.map((i) => i.start()));
    const broken = blue.map((b, i) => [b.name, blueBoots[i]] as const).filter(([, r]) => !r.ok);
    if (broken.length > 0) {
      throw new Error(`blue (the live release) did not boot: ${broken.map(([n, r]) => `${n}: ${r.ok ? '' : `step ${r.step}: ${r.detail}; log ${r.log}`}`).join('; ')}`);
    }
    await Promise.all(blue.map((b) => this.waitHealthy(b)));
    this.mark('blue serving', 'every blue instance answers its health check');

    const frontend = { address: '127.0.0.1', port: await ephemeralPort() };
    const haproxy = await this.startHaproxy(frontend, blue);
    this.mark('load balancer up', `HAProxy on ${frontend.address}:${frontend.port}, live backend ${this.blueBackend}`);

    const load = new LoadGenerator({
      host: frontend.address,
      port: frontend.port,
      path: '/',
      hostHeader: this.hostHeader,
      concurrency: o.concurrency ?? 8,
      ratePerSecond: o.ratePerSecond ?? 100,
      maxDurationMs: Math.max(10 * 60_000, 4 * this.policy.timeoutMs),
    });
    load.start();
    // Stopped here normally; this covers a rehearsal that fails half-way.
    this.cleanups.push(async () => void (await load.stop()));
    this.mark('load started', `${o.concurrency ?? 8} keep-alive clients, ${o.ratePerSecond ?? 100} requests/s to /`);
    await sleep(Math.min(2_000, Math.max(500, this.check.intervalMs)));
    return { greenImage, port, config, blue, blueBoots, frontend, haproxy, load };
  }

  /** Keeps the load on a little longer (the serving release must go on answering), then stops it. */
  private async finishLoad(load: LoadGenerator) {
    await sleep(Math.min(3_000, Math.max(1_000, this.check.intervalMs)));
    const result = await load.stop();
    this.mark('load stopped', `${result.sent} requests, ${result.failed} failed`);
    return result;
  }

  /**
   * The deploy greenlight replaces (a restart in place): on the live instances, stop the old
   * gunicorn and start the new release's, while nginx keeps taking requests.
   */
  async restartInPlace(): Promise<{ load: LoadResult; timeline: readonly TimelineEntry[] }> {
    this.mark('start', 'naive restart in place');
    const { greenImage, blue, load } = await this.setUp();
    await Promise.all(
      blue.map(async (b) => {
        await b.stopApp();
        await b.startApp(greenImage);
      }),
    );
    this.mark('restarted in place', `every instance runs ${this.greenRelease}`);
    const result = await this.finishLoad(load);
    return { load: result, timeline: this.timeline };
  }

  async play(): Promise<RehearsalReport> {
    const o = this.o;
    const { scenario } = o;
    this.mark('start', `scenario ${scenario.name}: ${scenario.summary}`);
    const { greenImage, port, config, blue, blueBoots, frontend, haproxy, load } = await this.setUp();

    // Green: its own database when the scenario takes it down.
    let postgres: Postgres | undefined;
    let greenConfig: Record<string, string> = { ...config };
    // Its own database when the scenario breaks it after the cutover: blue's must stay whole.
    const greenDatabase = path.join(this.dir('db'), 'green.sqlite3');
    if (scenario.greenBreaksAfterCutover) greenConfig = { ...greenConfig, DATABASE_URL: `sqlite://${greenDatabase}` };
    if (scenario.greenDatabaseDown) {
      const db = new Postgres(this.dir('postgres'), await ephemeralPort(), this.supervisor);
      this.cleanups.push(() => db.remove());
      postgres = db;
      await db.start('app');
      greenConfig = { ...greenConfig, DATABASE_URL: postgres.url('app') };
      this.mark('green database up', `PostgreSQL on 127.0.0.1:${postgres.port}`);
    }
    const greenSsm = await this.releaseSsm('green', greenImage, greenConfig);
    const green = this.instances('green', greenImage, port, greenSsm);
    const terminated = new Set<string>();
    const greenStates = (): InstanceProcessState[] =>
      green.map((g) => ({ name: g.name, lifecycleState: terminated.has(g.name) ? 'Terminated' : 'InService' }));

    // Like an Auto Scaling group: launch, register with the target group, then first boot runs.
    for (const g of green) {
      await this.api.run([
        addServerCommand(this.greenBackend, { name: g.name, address: g.address, port }, this.greenCheck),
        ...enableServerCommands(this.greenBackend, g.name),
      ]);
    }
    this.mark('green launched', `${this.n} instances of ${this.greenRelease} registered in ${this.greenBackend}`);
    const greenBoots = Promise.all(
      green.map(async (g) => {
        const result = await g.start();
        this.mark(`${g.name} ${result.ok ? 'booted' : 'boot failed'}`, result.ok ? undefined : `step ${result.step}: ${result.detail}; log ${result.log}`);
        return result;
      }),
    );
    const afterBoot = greenBoots.then(async () => {
      if (postgres) {
        await postgres.stop();
        this.mark('green database stopped', 'PostgreSQL is down while green waits for its health checks');
      }
    });

    const scaleOut = scenario.greenScalesOutMidGate
      ? new MidGateScaleOut({
          api: this.api,
          backend: this.greenBackend,
          check: this.greenCheck,
          initialDesired: this.n,
          launch: () => this.instance('green', green.length, greenImage, port, greenSsm),
          fleet: green,
          mark: (phase, detail) => this.mark(phase, detail),
        })
      : undefined;
    const flapping = { stop: false, done: Promise.resolve() };
    if (scenario.greenFlaps) flapping.done = this.flap(green[0], () => flapping.stop);

    if (o.gateAfterBoot) await afterBoot;
    this.mark('gate polling', `${this.policy.consecutiveHealthyPolls} consecutive healthy polls needed`);
    let greenHealthy = false;
    const gate = await runGate({
      api: this.api,
      backend: this.greenBackend,
      instances: greenStates,
      policy: this.policy,
      desiredCapacity: () => scaleOut?.desiredCapacity() ?? this.n,
      log: (line) => this.log(`[${this.seconds()}] ${line}`),
      onPoll: (_observation, decision) => {
        if (!greenHealthy && decision.progress.consecutiveHealthy > 0) {
          greenHealthy = true;
          this.mark('green healthy', `every green instance is healthy in ${this.greenBackend}`);
        }
        scaleOut?.onPoll(decision);
      },
    });
    flapping.stop = true;
    await flapping.done;
    await afterBoot;
    this.mark(`gate ${gate.decision.verdict}`, gate.decision.message);

    // After the gate: smoke checks through the preview route, the cutover, the bake, then blue retires.
    let outcome: ReleaseOutcome = 'rolled back before cutover';
    let smoke: SmokeReport | undefined;
    let bake: BakeRun | undefined;
    let cutoverAt: number | undefined;
    let switchBackAt: number | undefined;
    let rollback: RollbackReport | undefined;
    if (gate.decision.verdict === 'pass') {
      smoke = await this.smoke(frontend);
      if (smoke?.verdict === 'fail') {
        await this.rollBack(green, terminated);
      } else {
        const baseline = (await this.api.backend(this.greenBackend)).counters;
        cutoverAt = await this.switchTo(this.greenBackend);
        this.mark('cutover', `the listener sends every new request to ${this.greenBackend}`);
        if (scenario.greenBreaksAfterCutover) {
          const dropped = await dropAppTables(greenDatabase);
          this.mark('green database broken', `${dropped} tables dropped; django_migrations still records every migration`);
        }
        if (o.settings.bake) bake = await this.bake(o.settings.bake, baseline);
        if (bake?.decision.verdict === 'fail') {
          switchBackAt = await this.switchTo(this.blueBackend);
          this.mark('rolled back after cutover', `the listener sends every new request to ${this.blueBackend} again, whose instances never stopped`);
          await this.rollBack(green, terminated);
          outcome = 'rolled back after cutover';
        } else if (scenario.rollbackToStandby) {
          rollback = await this.rollBackToStandby(blue, green, terminated, load);
          outcome = rollback.verdict === 'pass' ? 'switched back to the standby' : 'live';
        } else {
          await this.retire(blue);
          outcome = 'live';
        }
      }
    } else {
      await this.rollBack(green, terminated);
    }
    const serving = outcome === 'live' ? green : blue;
    if (rollback?.verdict === 'fail') await this.retire(blue);
    const servingRelease = outcome === 'live' ? this.greenRelease : this.blueRelease;

    const servingAfter = await Promise.all(
      serving.map(async (s) => ({ name: s.name, running: s.running(), health: await probe(s.address, s.port, this.check.path, s.address) })),
    );
    const result = await this.finishLoad(load);
    const bakeReport = bake && cutoverAt !== undefined ? this.bakeReport(bake, load, cutoverAt, switchBackAt) : undefined;

    await o.onFinished?.({ frontend, blue, green, servingRelease, api: this.api, hostHeader: this.hostHeader });
    await this.supervisor.stop(haproxy);

    const boots = [...(await greenBoots), ...(scaleOut?.boot ? [await scaleOut.boot] : [])];
    const describeBoot = (r: BootResult | undefined) =>
      !r ? 'not booted' : r.ok ? 'started' : `failed in step ${r.step}: ${r.detail}${r.log ? ` (log: ${r.log})` : ''}`;
    const mismatch = scenario.check({
      verdict: gate.decision.verdict === 'pass' ? 'pass' : 'fail',
      reason: gate.decision.message,
      maxConsecutiveHealthy: gate.maxConsecutiveHealthy,
      consecutiveHealthyPolls: this.policy.consecutiveHealthyPolls,
      greenBoots: boots.map(describeBoot),
      greenEverHealthy: gate.everHealthy.size > 0,
      ...(smoke ? { smoke: smoke.verdict } : {}),
      ...(bake ? { bake: { verdict: bake.decision.verdict === 'pass' ? 'pass' : 'fail', reason: bake.decision.message } } : {}),
      outcome,
      scaleOut: scaleOut?.facts(),
      ...(rollback ? { rollback: { verdict: rollback.verdict, reason: rollback.reason } } : {}),
    });
    const instances = [
      ...blue.map((b, i) => ({ inst: b, release: this.blueRelease, boot: blueBoots[i] })),
      ...green.map((g, i) => ({ inst: g, release: this.greenRelease, boot: boots[i] })),
    ].map(({ inst, release, boot }) => ({ name: inst.name, address: inst.address, release, boot: describeBoot(boot) }));
    const stillServing = servingAfter.every((s) => s.running && s.health === 200);
    // A bake that caught a breaking release bounds its failures; none may fall outside that window.
    const failedOutsideBake = result.failed - (bakeReport?.failedBeforeSwitchBack ?? 0);
    const ok = mismatch === undefined && failedOutsideBake === 0 && stillServing;
    const phaseFailed = gate.decision.verdict !== 'pass' ? 'gate' : smoke?.verdict === 'fail' ? 'smoke' : bake?.decision.verdict === 'fail' ? 'bake' : undefined;
    return this.report(gate, result, instances, { release: servingRelease, instances: servingAfter }, mismatch, ok, {
      outcome,
      ...(phaseFailed ? { phaseFailed } : {}),
      ...(smoke ? { smoke } : {}),
      ...(bakeReport ? { bake: bakeReport } : {}),
      ...(rollback ? { rollback } : {}),
    });
  }

  /** The smoke checks, when the environment has them: each path through the preview route to green. */
  private async smoke(frontend: { address: string; port: number }): Promise<SmokeReport | undefined> {
    const settings = this.o.settings.smoke;
    if (!settings) return undefined;
    const run = await runSmoke({
      host: frontend.address,
      port: frontend.port,
      hostHeader: this.hostHeader,
      preview: { header: this.o.settings.preview.header, release: this.greenRelease },
      paths: settings.paths,
      expectedStatuses: settings.expectedStatuses,
      // A per-request bound, not a phase duration: not scaled.
      timeoutMs: settings.timeout * 1000,
    });
    this.mark(`smoke ${run.verdict.verdict}`, run.verdict.message);
    return { verdict: run.verdict.verdict, message: run.verdict.message, requests: run.requests };
  }

  /** The bake window on green's backend, counted from its counters at the cutover. */
  private async bake(settings: NonNullable<EnvironmentSettings['bake']>, baseline: BackendCounters): Promise<BakeRun> {
    const policy = bakePolicyFrom(settings, this.o.timeScale);
    const ignored = settings.alarms.length > 0 ? `; alarms ${settings.alarms.join(', ')} are CloudWatch's and not watched here` : '';
    this.mark('bake', `${policy.durationMs} ms on ${this.greenBackend}, polled every ${this.policy.pollIntervalMs} ms${ignored}`);
    const run = await runBake({
      api: this.api,
      backend: this.greenBackend,
      policy,
      pollIntervalMs: this.policy.pollIntervalMs,
      baseline,
      log: (line) => this.log(`[${this.seconds()}] ${line}`),
    });
    // HAProxy's own view at the verdict, next to its log.
    fs.writeFileSync(path.join(this.dir('haproxy'), 'show-stat-at-bake-verdict.csv'), run.showStat);
    this.mark(`bake ${run.decision.verdict}`, run.decision.message);
    return run;
  }

  /** The bake's figures, and where the load's failed requests fell around the cutover and the switch back. */
  private bakeReport(bake: BakeRun, load: LoadGenerator, cutoverAt: number, switchBackAt: number | undefined): BakeReport {
    const during = load.failuresSent(cutoverAt, switchBackAt);
    const after = switchBackAt === undefined ? 0 : load.failuresSent(switchBackAt).count;
    const policy = bakePolicyFrom(this.o.settings.bake as NonNullable<EnvironmentSettings['bake']>, this.o.timeScale);
    return {
      verdict: bake.decision.verdict === 'pass' ? 'pass' : 'fail',
      reason: bake.decision.message,
      durationMs: policy.durationMs,
      pollIntervalMs: this.policy.pollIntervalMs,
      maxErrorRate: policy.maxErrorRate,
      maxErrors: policy.maxErrors,
      figures: bake.figures,
      decidedAfterCutoverMs: bake.decidedAt - cutoverAt,
      ...(switchBackAt !== undefined
        ? {
            failedBeforeSwitchBack: during.count,
            failedAfterSwitchBack: after,
            ...(during.firstAt !== undefined
              ? { detectionMs: bake.decidedAt - during.firstAt, switchedBackAfterFirstFailureMs: switchBackAt - during.firstAt }
              : {}),
          }
        : {}),
    };
  }

  private report(
    gate: GateRun,
    load: RehearsalReport['load'],
    instances: RehearsalReport['instances'],
    servingAfter: RehearsalReport['servingAfter'],
    mismatch: string | undefined,
    ok: boolean,
    phases: Pick<RehearsalReport, 'outcome' | 'phaseFailed' | 'smoke' | 'bake' | 'rollback'>,
  ): RehearsalReport {
    const { o, check } = this;
    return {
      scenario: o.scenario.name,
      summary: o.scenario.summary,
      environment: o.environment,
      timeScale: o.timeScale,
      releases: { blue: this.blueRelease, green: this.greenRelease },
      instancesPerRelease: this.n,
      healthCheck: {
        path: check.path,
        greenPath: this.greenCheck.path,
        intervalMs: check.intervalMs,
        timeoutMs: check.timeoutMs,
        healthyThreshold: check.rise,
        unhealthyThreshold: this.greenCheck.fall,
        matcher: check.matcher,
      },
      gatePolicy: {
        consecutiveHealthyPolls: this.policy.consecutiveHealthyPolls,
        pollIntervalMs: this.policy.pollIntervalMs,
        timeoutMs: this.policy.timeoutMs,
      },
      expected: o.scenario.expected,
      expectedVerdict: o.scenario.expectedVerdict,
      gate: {
        verdict: gate.decision.verdict === 'pass' ? 'pass' : 'fail',
        reason: gate.decision.message,
        polls: gate.polls,
        maxConsecutiveHealthy: gate.maxConsecutiveHealthy,
      },
      ...(gate.firstAllHealthyAt !== undefined ? { greenHealthyAfterMs: gate.firstAllHealthyAt - this.started } : {}),
      ...phases,
      load,
      instances,
      servingAfter,
      timeline: this.timeline,
      ...(mismatch ? { mismatch } : {}),
      ok,
      workDir: o.workDir,
      durationMs: Date.now() - this.started,
    };
  }

  /** Blue's instances answer their health check directly, before the load balancer sends them traffic. */
  private async waitHealthy(instance: Instance): Promise<void> {
    const deadline = Date.now() + 60_000;
    let last: number | string = '';
    while (Date.now() < deadline) {
      last = await probe(instance.address, instance.port, this.check.path, instance.address, 5_000);
      if (last === 200) return;
      await sleep(100);
    }
    throw new Error(`${instance.name} did not answer GET ${this.check.path} with 200 within 60 s (last: ${last}); see ${instance.paths.root}/var/log`);
  }

  private async startHaproxy(frontend: { address: string; port: number }, blue: readonly Instance[]): Promise<ManagedProcess> {
    const dir = this.dir('haproxy');
    const socketPath = path.join(dir, 'admin.sock');
    const liveMapPath = path.join(dir, 'live.map');
    fs.writeFileSync(liveMapPath, renderLiveMap(this.blueBackend));
    const configPath = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(
      configPath,
      renderHaproxyConfig({
        frontend,
        socketPath,
        liveMapPath,
        liveBackend: this.blueBackend,
        listenerProtocol: this.o.settings.listener.protocol,
        preview: { header: this.o.settings.preview.header },
        backends: [
          {
            name: this.blueBackend,
            release: this.blueRelease,
            check: this.check,
            servers: blue.map((b) => ({ name: b.name, address: b.address, port: b.port })),
          },
          { name: this.greenBackend, release: this.greenRelease, check: this.greenCheck, servers: [] },
        ],
      }),
    );
    const proc = this.supervisor.start('haproxy', 'haproxy', ['-f', configPath, '-db'], { logPath: path.join(dir, 'haproxy.log') });
    this.api = new RuntimeApi(socketPath);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitReason() !== undefined) {
        throw new Error(`HAProxy exited (${proc.exitReason()}): ${fs.readFileSync(proc.logPath, 'utf8').trim().split('\n').slice(-3).join(' ')}`);
      }
      const servers = await this.api.servers().catch(() => [] as ServerStatus[]);
      const up = servers.filter((s) => s.backend === this.blueBackend && s.opState === 2);
      if (up.length === blue.length) return proc;
      if (Date.now() > deadline) throw new Error(`HAProxy did not report blue up within 15 s; see ${proc.logPath}`);
      await sleep(50);
    }
  }

  /** Waits until a backend's servers hold no sessions, bounded by the deregistration delay. */
  private async drain(backend: string): Promise<number> {
    const bound = Math.max(1_000, this.o.settings.deregistrationDelay * 1000 * this.o.timeScale);
    const deadline = Date.now() + bound;
    for (;;) {
      const sessions = (await this.api.servers()).filter((s) => s.backend === backend).reduce((sum, s) => sum + s.currentSessions, 0);
      if (sessions === 0 || Date.now() > deadline) return sessions;
      await sleep(20);
    }
  }

  /** Points the listener's default at `backend` (one atomic `set map`); returns when HAProxy acknowledged it. */
  private async switchTo(backend: string): Promise<number> {
    await this.api.run([cutoverCommand(path.join(this.o.workDir, 'haproxy', 'live.map'), backend)]);
    return Date.now();
  }

  /** After a clean bake (or with none): blue drains, stops and leaves the load balancer. */
  private async retire(blue: readonly Instance[]): Promise<void> {
    await this.api.run(blue.map((b) => `set server ${this.blueBackend}/${b.name} state drain`));
    const left = await this.drain(this.blueBackend);
    this.mark('blue drained', left === 0 ? 'no sessions left on blue' : `${left} sessions cut at the deregistration delay`);
    await Promise.all(blue.map((b) => b.stop()));
    await this.api.run(blue.flatMap((b) => [`set server ${this.blueBackend}/${b.name} state maint`, `del server ${this.blueBackend}/${b.name}`]));
    this.mark('blue stopped', `${blue.length} instances of ${this.blueRelease} stopped and deregistered`);
  }

  /**
   * `greenlight rollback` within the standby's window: blue never stopped, so the gate polls its
   * running backend, then one `set map` sends every new request back to it; green drains and stops.
   * Blue serves every request once green has answered its last one.
   */
  private async rollBackToStandby(
    blue: readonly Instance[],
    green: readonly Instance[],
    terminated: Set<string>,
    load: LoadGenerator,
  ): Promise<RollbackReport> {
    this.mark('standby', `${blue.length} instances of ${this.blueRelease} keep running in ${this.blueBackend}`);
    await this.o.onRollbackCommand?.(blue);
    const startedAt = Date.now();
    this.mark('rollback command', `a gate on ${this.blueBackend}, then the listener moves back; nothing starts`);
    const gate = await runGate({
      api: this.api,
      backend: this.blueBackend,
      instances: () => blue.map((b) => ({ name: b.name, lifecycleState: 'InService' })),
      policy: this.policy,
      log: (line) => this.log(`[${this.seconds()}] rollback ${line}`),
    });
    this.mark(`rollback gate ${gate.decision.verdict}`, gate.decision.message);
    const verdict = gate.decision.verdict === 'pass' ? 'pass' : 'fail';
    if (verdict === 'fail') {
      return { verdict, reason: gate.decision.message, gatePolls: gate.polls, failedDuringRollback: load.failuresSent(startedAt).count };
    }
    const switchedAt = await this.switchTo(this.blueBackend);
    this.mark('switched back', `the listener sends every new request to ${this.blueBackend}, whose instances never stopped`);
    await this.rollBack(green, terminated);
    const servesAllAt = Math.max(switchedAt, load.lastAnsweredBy(this.greenBackend) ?? 0);
    return {
      verdict,
      reason: gate.decision.message,
      gatePolls: gate.polls,
      switchedAfterMs: switchedAt - startedAt,
      blueServesAllAfterMs: servesAllAt - startedAt,
      failedDuringRollback: load.failuresSent(startedAt).count,
    };
  }

  /** A failed gate, smoke check or bake: green leaves the load balancer and stops; blue's processes and servers are untouched. */
  private async rollBack(green: readonly Instance[], terminated: Set<string>): Promise<void> {
    await this.api.run(green.map((g) => `set server ${this.greenBackend}/${g.name} state maint`));
    await this.drain(this.greenBackend);
    await this.api.run(green.map((g) => `del server ${this.greenBackend}/${g.name}`));
    await Promise.all(green.map((g) => g.stop()));
    for (const g of green) terminated.add(g.name);
    this.mark('rollback', `${green.length} instances of ${this.greenRelease} deregistered and stopped; ${this.blueBackend} untouched`);
  }

  /**
   * The flapping scenario: the instance's app crashes as soon as the load balancer marks it healthy,
   * stays down until the load balancer marks it unhealthy, and is then started again.
   */
  private async flap(instance: Instance, stopped: () => boolean): Promise<void> {
    const watchMs = Math.max(10, Math.round(this.check.intervalMs / 50));
    let wasUp = false;
    while (!stopped()) {
      const server = (await this.api.servers().catch(() => [] as ServerStatus[])).find((s) => s.backend === this.greenBackend && s.name === instance.name);
      const up = server?.opState === 2;
      const appRunning = instance.gunicorn !== undefined && instance.gunicorn.exitReason() === undefined;
      if (up && !wasUp && appRunning) {
        await instance.crashApp();
        this.mark(`${instance.name} app crashed`, 'right after turning healthy');
      } else if (server && !up && !appRunning && instance.boot?.ok) {
        await instance.startApp().catch((err: Error) => this.mark(`${instance.name} restart failed`, err.message));
        this.mark(`${instance.name} app restarted`, 'after the load balancer marked it unhealthy');
      }
      wasUp = up;
      await sleep(watchMs);
    }
  }
}
