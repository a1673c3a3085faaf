// One rehearsal instance: launched from a release image, nginx up as at boot, then
// userdata/bootstrap.sh itself (instance metadata, configuration from SSM, required configuration,
// migrations under the lock, services) against loopback IMDS and SSM, with systemd's part played
// here: gunicorn starts as the unit describes it, as the app user, with the env file.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { BOOTSTRAP_SCRIPT, bootFailure, bootstrapEnvironment, firstCause, lastException } from './first-boot';
import { APP_USER, appUserIds, launchRoot, switchRelease, type ReleaseImage } from './image';
import { gunicornCommand, renderNginxMain, renderSite, type InstancePaths } from './instance-files';
import { waitExit, type ManagedProcess, type ProcessSupervisor } from './processes';
import type { SystemctlServer } from './systemctl';

export type { ReleaseImage } from './image';
export { bakeImage } from './image';

export interface InstanceProps {
  /** blue-1, green-2. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly image: ReleaseImage;
  /** The instance root directory. */
  readonly root: string;
  readonly environment: string;
  readonly region: string;
  /** The loopback IMDSv2 and SSM this instance's first boot talks to. */
  readonly imdsUrl: string;
  readonly ssmUrl: string;
  readonly systemctl: SystemctlServer;
  /** The environment's listener is HTTPS: nginx redirects what did not arrive over https. @default false */
  readonly tls?: boolean;
}

/** How first boot went: the step that failed, its cause, and the full log. */
export type BootResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly step: string; readonly detail: string; readonly log?: string };

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BOOT_TIMEOUT_MS = 300_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const logLines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []);

/** Resolves true once something accepts connections at address:port. */
function accepting(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: address, port });
    socket.setTimeout(1_000, () => socket.destroy());
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

/** Waits for `ready` to hold, failing early, with the cause from its log, if the process exits. */
async function waitFor(what: string, proc: ManagedProcess, ready: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    const exit = proc.exitReason();
    if (exit !== undefined) throw new Error(`${what} exited (${exit}): ${firstCause(logLines(proc.logPath)) ?? '(no output)'}; see ${proc.logPath}`);
    await sleep(50);
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms; see ${proc.logPath}`);
}

export class Instance {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly paths: InstancePaths;
  nginx?: ManagedProcess;
  gunicorn?: ManagedProcess;
  boot?: BootResult;

  constructor(
    private readonly props: InstanceProps,
    private readonly supervisor: ProcessSupervisor,
  ) {
    this.name = props.name;
    this.address = props.address;
    this.port = props.port;
    // The instance root holds everything the AMI holds under /, the release directory included.
    this.paths = {
      root: props.root,
      image: props.root,
      address: props.address,
      port: props.port,
      socketPath: path.join(props.root, 'run', 'greenlight', 'gunicorn.sock'),
    };
    if (this.paths.socketPath.length > 100) {
      throw new Error(`socket path ${this.paths.socketPath} is too long for a unix socket; use a shorter --work-dir`);
    }
  }

  private log(name: string): string {
    return path.join(this.props.root, 'var', 'log', name);
  }

  /** The app's output (gunicorn and Django, as the journal holds it on an instance). */
  get appLog(): string {
    return this.log('app.log');
  }

  /** The last exception the app logged, if any: the cause behind a 5xx. */
  lastException(): string | undefined {
    if (!fs.existsSync(this.appLog)) return undefined;
    return lastException(fs.readFileSync(this.appLog, 'utf8').split('\n'));
  }

  /** Launch and first boot. Never throws: a failed step is the result. */
  async start(): Promise<BootResult> {
    const bootLog = this.log('bootstrap.log');
    this.boot = await this.bootSteps(bootLog).catch((err: Error) => ({ ok: false as const, step: 'launch', detail: err.message, log: bootLog }));
    return this.boot;
  }

  private async bootSteps(bootLog: string): Promise<BootResult> {
    const { root, image } = this.props;
    launchRoot(image, root);
    await this.startNginx();

    const systemctl = this.props.systemctl.standIn(path.join(root, 'systemctl'), this.name, (args) => this.systemctl(args));
    const env = bootstrapEnvironment({
      root,
      app: image.app,
      environment: this.props.environment,
      release: image.release,
      region: this.props.region,
      tls: this.props.tls ?? false,
      appUser: APP_USER,
      imdsUrl: this.props.imdsUrl,
      ssmUrl: this.props.ssmUrl,
      systemctl,
    });
    const bootstrap = this.supervisor.start(`${this.name} bootstrap`, '/bin/bash', [BOOTSTRAP_SCRIPT], { env, logPath: bootLog });
    const exit = (await waitExit(bootstrap, BOOT_TIMEOUT_MS)) ?? `timeout after ${BOOT_TIMEOUT_MS / 1000} s`;
    if (exit === 'code 0') return { ok: true };
    await this.supervisor.stop(bootstrap);
    const failure = bootFailure(fs.readFileSync(bootLog, 'utf8'));
    return { ok: false, step: failure?.step ?? 'bootstrap', detail: failure?.cause ?? `bootstrap.sh ${exit}`, log: bootLog };
  }

  /** nginx starts at boot, before userdata: the baked site with this instance's address and paths. */
  private async startNginx(): Promise<void> {
    const { root } = this.props;
    const sitePath = path.join(root, 'etc/nginx/greenlight-site.conf');
    fs.writeFileSync(sitePath, renderSite(fs.readFileSync(path.join(root, 'etc/nginx/sites-available/greenlight'), 'utf8'), this.paths));
    const confPath = path.join(root, 'etc/nginx/nginx.conf');
    const user = process.getuid?.() === 0 ? 'root' : undefined;
    fs.writeFileSync(confPath, renderNginxMain(this.paths, sitePath, user));
    this.nginx = this.supervisor.start(`${this.name} nginx`, 'nginx', ['-p', root, '-c', confPath, '-g', 'daemon off;'], {
      logPath: this.log('nginx.log'),
      env: { PATH },
    });
    await waitFor('nginx', this.nginx, () => accepting(this.address, this.port), 10_000);
  }

  /** What systemd does for the bootstrap's two systemctl calls. */
  private async systemctl(args: readonly string[]): Promise<string> {
    const call = args.join(' ');
    if (call === 'enable --now greenlight-app.service') {
      await this.startApp();
      return 'greenlight-app.service started';
    }
    if (call === 'reload-or-restart nginx.service' && this.nginx) {
      this.supervisor.signal(this.nginx, 'SIGHUP');
      return 'nginx.service reloaded';
    }
    throw new Error(`systemctl ${call}: not something first boot does`);
  }

  /** Whether every process this instance started is still running. */
  running(): boolean {
    const procs = [this.nginx, this.gunicorn].filter((p): p is ManagedProcess => p !== undefined);
    return procs.length > 0 && procs.every((p) => p.exitReason() === undefined);
  }

  pids(): number[] {
    return [this.nginx, this.gunicorn].filter((p): p is ManagedProcess => p !== undefined).map((p) => p.pid);
  }

  /** Stops the app the way systemd does (SIGTERM: workers finish), then nginx gracefully (SIGQUIT). */
  async stop(): Promise<void> {
    if (this.gunicorn) await this.supervisor.stop(this.gunicorn, 'SIGTERM', 30_000);
    if (this.nginx) await this.supervisor.stop(this.nginx, 'SIGQUIT', 10_000);
  }

  /** Stops only the app, leaving nginx up: the naive in-place restart, or a crash. */
  async stopApp(): Promise<void> {
    if (this.gunicorn) await this.supervisor.stop(this.gunicorn, 'SIGTERM', 30_000);
  }

  /** The app crashes: its master and workers die at once (SIGKILL); nginx stays up and answers 502. */
  async crashApp(): Promise<void> {
    if (this.gunicorn) await this.supervisor.stop(this.gunicorn, 'SIGKILL', 0);
  }

  /**
   * Starts the app service as the baked unit describes it (User=, EnvironmentFile=, Environment=,
   * WorkingDirectory=, ExecStart=) and waits for its socket, as Type=notify waits for readiness. With
   * `image`, the instance runs another release in place, as a deploy that replaces code on live
   * instances does.
   */
  async startApp(image?: ReleaseImage): Promise<void> {
    const { root } = this.props;
    if (image) switchRelease(root, image);
    const unit = fs.readFileSync(path.join(root, 'etc/systemd/system/greenlight-app.service'), 'utf8');
    const service = gunicornCommand(unit, this.props.image.app, this.paths);
    fs.rmSync(this.paths.socketPath, { force: true });
    this.gunicorn = this.supervisor.start(
      `${this.name} gunicorn`,
      path.join(root, 'usr/local/bin/greenlight-config'),
      ['run', '--env-file', path.join(root, 'etc/greenlight/app.env'), '--', service.command, ...service.args],
      { cwd: service.cwd, env: { PATH, LANG: 'C.UTF-8', HOME: root, ...service.env }, logPath: this.appLog, ...appUserIds() },
    );
    await waitFor('gunicorn', this.gunicorn, () => fs.existsSync(this.paths.socketPath), 60_000);
  }
}
