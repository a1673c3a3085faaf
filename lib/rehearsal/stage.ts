// What every phase of one rehearsed release shares: the options, the two releases' names and
// backends, the health check and gate policy, HAProxy's runtime API once it runs, the fake AWS
// endpoints, the timeline, and the temporary resources to remove at the end. Each phase (blue.ts,
// green.ts, smoke.ts, cutover.ts, bake.ts, rollback.ts, retire.ts) takes it and marks its progress.
import { newPreviewKey } from '../preview/key';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EnvironmentSettings } from '../config/schema';
import type { GatePolicy } from '../health-gate/types';
import { loadManifest, type AppManifest } from '../manifest/load';
import type { startFakeImdsFleet } from './fake-aws';
import { checkSettingsFrom, type CheckSettings } from './haproxy-config';
import type { Instance } from './instance';
import type { ProcessSupervisor } from './processes';
import type { TimelineEntry } from './report';
import type { RuntimeApi } from './runtime-api';
import type { Scenario } from './scenarios';
import type { SystemctlServer } from './systemctl';

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
  /** Load: paced clients, or open arrivals with `concurrency` as the most in flight (see LoadOptions). @default 'clients' */
  readonly arrivals?: 'clients' | 'open';
  readonly ratePerSecond?: number;
  /** Load: the paths requested in turn. @default `/` and the environment's smoke paths */
  readonly loadPaths?: readonly string[];
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
  /**
   * Launch green even when the migration check finds that its migrations break blue, to show what
   * the check prevents. @default false
   */
  readonly ignoreMigrationCheck?: boolean;
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

/**
 * The rehearsal cannot go on before green is even launched: blue did not boot or serve, or HAProxy
 * did not start. Its message is one line with the cause and the log to read.
 */
export class RehearsalStopped extends Error {
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'RehearsalStopped';
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

export class Stage {
  readonly started = Date.now();
  readonly timeline: TimelineEntry[] = [];
  /** Instances per release. */
  readonly n: number;
  readonly check: CheckSettings;
  readonly greenCheck: CheckSettings;
  readonly policy: GatePolicy;
  readonly blueRelease: string;
  readonly greenRelease: string;
  /** Each release's preview key, made per run as a release's PreviewKey resource makes one per deploy. */
  readonly previewKeys: ReadonlyMap<string, string>;
  readonly blueBackend: string;
  readonly greenBackend: string;
  readonly manifest: AppManifest;
  readonly appDir: string;
  readonly appGreenDir: string;
  /** HAProxy's runtime API, once HAProxy runs (load-balancer.ts). */
  api!: RuntimeApi;
  hostHeader = 'localhost';
  systemctl!: SystemctlServer;
  imds!: Awaited<ReturnType<typeof startFakeImdsFleet>>;
  /** Temporary resources outside the work directory, removed whatever happens. */
  readonly cleanups: Array<() => Promise<void>> = [];

  constructor(
    readonly o: RehearsalOptions,
    readonly supervisor: ProcessSupervisor,
    readonly log: (line: string) => void,
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
    this.previewKeys = new Map([this.blueRelease, this.greenRelease].map((release) => [release, newPreviewKey()]));
  }

  async cleanUp(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0)) await cleanup().catch(() => undefined);
  }

  /** Seconds since the start, as progress lines show them. */
  seconds(): string {
    return `${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)} s`;
  }

  /** A phase on the timeline and in the progress lines. */
  mark(phase: string, detail?: string): void {
    this.timeline.push({ atMs: Date.now() - this.started, phase, ...(detail ? { detail } : {}) });
    this.log(`[${this.seconds()}] ${phase}${detail ? `: ${detail}` : ''}`);
  }

  /** A progress line of a phase still waiting (the gate's and the bake's polls), with the time. */
  progress(prefix = ''): (line: string) => void {
    return (line) => this.log(`[${this.seconds()}] ${prefix}${line}`);
  }

  /** A directory below the work directory, created. */
  dir(...parts: string[]): string {
    const dir = path.join(this.o.workDir, ...parts);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }
}
