// One rehearsal instance: the release image (versioned release directory, virtualenv, AMI files),
// and an instance root where the first-boot steps of userdata/bootstrap.sh happen for real: nginx is
// up from boot, the instance IP is written, the configuration lands in an env file, migrations run
// under the migration lock, and only then does gunicorn start.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { gunicornCommand, renderNginxMain, renderSite, type InstancePaths } from './instance-files';
import { waitExit, type ManagedProcess, type ProcessSupervisor } from './processes';

/** The rehearsal's stand-in for a baked AMI: one release directory shared by its instances. */
export interface ReleaseImage {
  readonly app: string;
  readonly release: string;
  /** Root holding opt/<app>/releases/<release>, opt/<app>/current and etc/greenlight. */
  readonly root: string;
  readonly appDir: string;
  readonly python: string;
  readonly files: { readonly site: string; readonly unit: string };
}

/** Bakes a release as packer/scripts/30-release.sh and 40-services.sh lay it out. */
export function bakeImage(props: {
  readonly dir: string;
  readonly app: string;
  readonly release: string;
  /** examples/django-app. */
  readonly appSource: string;
  /** packer/files. */
  readonly packerFiles: string;
}): ReleaseImage {
  const root = props.dir;
  const base = path.join(root, 'opt', props.app);
  const releaseDir = path.join(base, 'releases', props.release);
  const appDir = path.join(releaseDir, 'app');
  fs.mkdirSync(releaseDir, { recursive: true });
  fs.cpSync(props.appSource, appDir, { recursive: true, filter: (src) => path.basename(src) !== '__pycache__' });
  // The AMI's venv also uses Debian's python3 with system site packages; pip is not needed when
  // requirements are met by Debian's packages.
  const venv = spawnSync('/usr/bin/python3', ['-m', 'venv', '--without-pip', '--system-site-packages', path.join(releaseDir, 'venv')], {
    encoding: 'utf8',
  });
  if (venv.status !== 0) throw new Error(`creating the release virtualenv failed: ${venv.stderr || venv.error?.message}`);
  fs.symlinkSync(path.join('releases', props.release), path.join(base, 'current'));

  const files = (name: string) => fs.readFileSync(path.join(props.packerFiles, name), 'utf8');
  const etc = path.join(root, 'etc', 'greenlight');
  fs.mkdirSync(path.join(etc, 'nginx'), { recursive: true });
  fs.copyFileSync(path.join(props.packerFiles, 'gunicorn.conf.py'), path.join(etc, 'gunicorn.conf.py'));
  for (const snippet of ['tls-on.conf', 'tls-off.conf']) {
    fs.copyFileSync(path.join(props.packerFiles, snippet), path.join(etc, 'nginx', snippet));
  }
  return {
    app: props.app,
    release: props.release,
    root,
    appDir: path.join(base, 'current', 'app'),
    python: path.join(base, 'current', 'venv', 'bin', 'python'),
    files: { site: files('nginx-site.conf'), unit: files('greenlight-app.service') },
  };
}

export interface InstanceProps {
  /** blue-1, green-2. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly image: ReleaseImage;
  /** The instance root directory. */
  readonly root: string;
  /** The app's configuration, as SSM Parameter Store would hand it to the env file. */
  readonly config: Readonly<Record<string, string>>;
  /** Whether first boot writes the instance IP to etc/aws/ipv4 (the app allows it as Host). @default true */
  readonly writeIpv4?: boolean;
  /** The environment's listener is HTTPS: nginx redirects what did not arrive over https. @default false */
  readonly tls?: boolean;
}

/** How first boot went: the step that failed and the last line it printed. */
export type BootResult = { readonly ok: true } | { readonly ok: false; readonly step: string; readonly detail: string };

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last line a failed step printed, which names the problem (never the configuration values). */
function lastLine(logPath: string): string {
  const lines = fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean) : [];
  return lines.at(-1)?.slice(0, 300) ?? '(no output)';
}

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

/** Waits for `ready` to hold, failing early if the process exits. */
async function waitFor(what: string, proc: ManagedProcess, ready: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready()) return;
    const exit = proc.exitReason();
    if (exit !== undefined) throw new Error(`${what} exited (${exit}): ${lastLine(proc.logPath)}`);
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
    this.paths = {
      root: props.root,
      image: props.image.root,
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

  /** First boot, in userdata/bootstrap.sh's order. Never throws: a failed step is the result. */
  async start(): Promise<BootResult> {
    this.boot = await this.bootSteps().catch((err: Error & { step?: string }) => ({ ok: false as const, step: err.step ?? 'boot', detail: err.message }));
    return this.boot;
  }

  private async bootSteps(): Promise<BootResult> {
    const { root } = this.props;
    const step = async <T>(name: string, run: () => Promise<T> | T): Promise<T> => {
      try {
        return await run();
      } catch (err) {
        throw Object.assign(err as Error, { step: name });
      }
    };
    for (const dir of ['etc/aws', 'etc/greenlight/nginx', 'etc/nginx', 'run/greenlight', 'var/log/nginx', 'var/lib/nginx']) {
      fs.mkdirSync(path.join(root, dir), { recursive: true });
    }

    // The image's TLS default is the redirect; first boot picks the environment's listener.
    const snippet = this.props.tls ? 'tls-on.conf' : 'tls-off.conf';
    fs.symlinkSync(path.join(this.props.image.root, 'etc', 'greenlight', 'nginx', snippet), path.join(root, 'etc/greenlight/nginx/tls.conf'));

    await step('nginx', async () => {
      const sitePath = path.join(root, 'etc/nginx/greenlight-site.conf');
      fs.writeFileSync(sitePath, renderSite(this.props.image.files.site, this.paths));
      const confPath = path.join(root, 'etc/nginx/nginx.conf');
      const user = process.getuid?.() === 0 ? 'root' : undefined;
      fs.writeFileSync(confPath, renderNginxMain(this.paths, sitePath, user));
      this.nginx = this.supervisor.start(`${this.name} nginx`, 'nginx', ['-p', root, '-c', confPath, '-g', 'daemon off;'], {
        logPath: this.log('nginx.log'),
        env: { PATH },
      });
      await waitFor('nginx', this.nginx, () => accepting(this.address, this.port), 10_000);
    });

    await step('instance metadata', () => {
      if (this.props.writeIpv4 !== false) fs.writeFileSync(path.join(root, 'etc/aws/ipv4'), `${this.address}\n`, { mode: 0o644 });
    });

    const { service, env } = this.service();
    await step('configuration', () => {
      const lines = Object.entries(this.props.config).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
      fs.writeFileSync(path.join(root, 'etc/greenlight/app.env'), `${lines.join('\n')}\n`, { mode: 0o600 });
    });

    await step('migrations', async () => {
      const migrate = this.supervisor.start(`${this.name} migrate`, this.props.image.python, ['manage.py', 'migrate_locked', '--no-color'], {
        cwd: service.cwd,
        env,
        logPath: this.log('bootstrap.log'),
      });
      const exit = (await waitExit(migrate, 120_000)) ?? 'timeout after 120 s';
      if (exit !== 'code 0') {
        await this.supervisor.stop(migrate);
        throw new Error(`manage.py migrate_locked ${exit}: ${lastLine(migrate.logPath)}`);
      }
    });

    await step('services', () => this.startApp());
    return { ok: true };
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

  /** The app service's command and environment: the unit's, plus the instance's configuration. */
  private service(image = this.props.image) {
    const service = gunicornCommand(image.files.unit, image.app, { ...this.paths, image: image.root });
    const env: Record<string, string> = { PATH, LANG: 'C.UTF-8', HOME: this.props.root, ...service.env, ...this.props.config };
    return { service, env };
  }

  /**
   * Starts the app service (at first boot, or again after stopApp) and waits for its socket. With
   * `image`, the instance runs another release in place, as a deploy that replaces code on live
   * instances does.
   */
  async startApp(image?: ReleaseImage): Promise<void> {
    const { service, env } = this.service(image);
    if (image) env.GREENLIGHT_RELEASE = image.release;
    fs.rmSync(this.paths.socketPath, { force: true });
    this.gunicorn = this.supervisor.start(`${this.name} gunicorn`, service.command, service.args, { cwd: service.cwd, env, logPath: this.log('app.log') });
    await waitFor('gunicorn', this.gunicorn, () => fs.existsSync(this.paths.socketPath), 60_000);
  }
}
