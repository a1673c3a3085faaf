// The first phase, common to every strategy: both release images baked, blue (the live release)
// booted and serving behind HAProxy, and the load running through it; and at the end, the load
// kept on a little longer and stopped.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { deriveBreakingGreen } from './breaking-migration';
import { startFakeImdsFleet } from './fake-aws';
import { launchFleet, releaseSsm } from './fleet';
import { localAppConfig } from './image';
import { appDatabase } from './postgres';
import { bakeImage, type BootResult, type Instance, type ReleaseImage } from './instance';
import { LoadGenerator } from './load';
import { startHaproxy } from './load-balancer';
import { ephemeralPort, instancePort, probe } from './net';
import type { ManagedProcess } from './processes';
import { RehearsalStopped, sleep, type Stage } from './stage';
import { SystemctlServer } from './systemctl';

/** The Host the load sends: the first plain name in ALLOWED_HOSTS, as real users would reach the app. */
export function loadHostHeader(config: Readonly<Record<string, string>>): string {
  const names = (config.ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim().replace(/^\./, ''));
  return names.find((h) => /^[A-Za-z0-9.-]+$/.test(h)) ?? 'localhost';
}

/** Blue serving under load, and what the next phases build on. */
export interface BlueServing {
  readonly blueImage: ReleaseImage;
  readonly greenImage: ReleaseImage;
  /** The port every instance listens on. */
  readonly port: number;
  /** The app's configuration, as blue's SSM holds it. */
  readonly config: Record<string, string>;
  readonly blue: Instance[];
  readonly blueBoots: BootResult[];
  readonly frontend: { address: string; port: number };
  readonly haproxy: ManagedProcess;
  readonly load: LoadGenerator;
}

export async function bringUpBlue(stage: Stage): Promise<BlueServing> {
  const { o } = stage;
  const bake = (release: string, appSource: string) =>
    bakeImage({
      dir: stage.dir(`image-${release}`),
      app: o.app,
      release,
      appSource,
      packerFiles: path.join(o.repoRoot, 'packer', 'files'),
    });
  // The app user reads the code and writes the SQLite database below the work directory.
  fs.chmodSync(o.workDir, 0o755);
  const blueImage = bake(stage.blueRelease, stage.appDir);
  // The breaking-migration scenario's green, unless one was given: the reference app with a column dropped.
  const greenSource = o.scenario.greenDropsAColumn && o.appGreenDir === undefined ? deriveBreakingGreen(stage.appDir, stage.dir('green-app')) : stage.appGreenDir;
  const greenImage = bake(stage.greenRelease, greenSource);
  if (o.scenario.greenSlowPagesMs) slowPages(greenImage, o.scenario.greenSlowPagesMs, [stage.greenCheck.path, stage.manifest.livenessPath]);
  if (stage.manifest.healthPath !== o.settings.healthCheck.path) {
    stage.mark('health path', `the app serves ${stage.manifest.healthPath}; environment ${o.environment} checks ${o.settings.healthCheck.path}: set its healthCheck.path before deploying`);
  }
  // One address more when green scales out during the gate.
  const addresses = Array.from({ length: 2 * stage.n + (o.scenario.greenScalesOutMidGate ? 1 : 0) }, (_, i) => `127.0.1.${i + 1}`);
  // A --port given is the user's to keep free.
  const held = o.port === undefined ? await instancePort(addresses) : { port: o.port, release: async () => undefined };
  stage.cleanups.push(held.release);
  const port = held.port;
  const database = await appDatabase(o.config, stage.dir('postgres-app'), await ephemeralPort(), stage.supervisor, stage.cleanups);
  stage.mark('database', database.said);
  const config = { ...localAppConfig(stage.dir('db'), { ...database.config, ...o.config }), WEB_CONCURRENCY: String(o.workers ?? 2) };
  stage.hostHeader = loadHostHeader(config);
  stage.systemctl = await SystemctlServer.start();
  stage.imds = await startFakeImdsFleet();
  stage.cleanups.push(() => stage.systemctl.close(), stage.imds.close);
  const blue = launchFleet(stage, 'blue', blueImage, port, await releaseSsm(stage, 'blue', blueImage, config));

  stage.mark('blue booting', `${stage.n} instances of ${stage.blueRelease} on ${addresses.slice(0, stage.n).join(', ')} port ${port}`);
  const blueBoots = await Promise.all(blue.map((i) => i.start()));
  const broken = blue.map((b, i) => [b.name, blueBoots[i]] as const).filter(([, r]) => !r.ok);
  if (broken.length > 0) {
    throw new RehearsalStopped(`blue (the live release) did not boot: ${broken.map(([n, r]) => `${n}: ${r.ok ? '' : `step ${r.step}: ${r.detail}; log ${r.log}`}`).join('; ')}`);
  }
  await Promise.all(blue.map((b) => waitHealthy(stage, b)));
  stage.mark('blue serving', 'every blue instance answers its health check');

  const frontend = { address: '127.0.0.1', port: await ephemeralPort() };
  const haproxy = await startHaproxy(stage, frontend, blue);
  stage.mark('load balancer up', `HAProxy on ${frontend.address}:${frontend.port}, live backend ${stage.blueBackend}`);

  const paths = loadPaths(o.loadPaths, o.settings.smoke?.paths);
  const load = new LoadGenerator({
    host: frontend.address,
    port: frontend.port,
    paths,
    hostHeader: stage.hostHeader,
    concurrency: o.concurrency ?? 8,
    ratePerSecond: o.ratePerSecond ?? 100,
    arrivals: o.arrivals ?? 'clients',
    maxDurationMs: Math.max(10 * 60_000, 4 * stage.policy.timeoutMs),
  });
  load.start();
  // Stopped here normally; this covers a rehearsal that fails half-way.
  stage.cleanups.push(async () => void (await load.stop()));
  const clients = o.arrivals === 'open' ? `open arrivals (at most ${o.concurrency ?? 8} in flight)` : `${o.concurrency ?? 8} keep-alive clients`;
  stage.mark('load started', `${clients}, ${o.ratePerSecond ?? 100} requests/s to ${paths.join(', ')}${paths.length > 1 ? ' in turn' : ''}`);
  await sleep(Math.min(2_000, Math.max(500, stage.check.intervalMs)));
  return { blueImage, greenImage, port, config, blue, blueBoots, frontend, haproxy, load };
}

/** What the load requests: the given paths, or the home page and the smoke paths, as users reach them. */
export function loadPaths(given: readonly string[] | undefined, smokePaths: readonly string[] = []): string[] {
  return given && given.length > 0 ? [...given] : [...new Set(['/', ...smokePaths])];
}

/** Blue's instances answer their health check directly, before the load balancer sends them traffic. */
async function waitHealthy(stage: Stage, instance: Instance): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last: number | string = '';
  while (Date.now() < deadline) {
    last = await probe(instance.address, instance.port, stage.check.path, instance.address, 5_000);
    if (last === 200) return;
    await sleep(100);
  }
  throw new RehearsalStopped(`blue (the live release) does not serve: ${instance.name} did not answer GET ${stage.check.path} with 200 within 60 s (last: ${last}); see ${instance.paths.root}/var/log`);
}

/** Keeps the load on a little longer (the serving release must go on answering), then stops it. */
export async function finishLoad(stage: Stage, load: LoadGenerator) {
  await sleep(Math.min(3_000, Math.max(1_000, stage.check.intervalMs)));
  const result = await load.stop();
  stage.mark('load stopped', `${result.sent} requests, ${result.failed} failed`);
  return result;
}

/**
 * The latency-regression fault, in the image's gunicorn config rather than the app: a pre_request
 * hook that holds every request but the health checks for `ms`.
 */
function slowPages(image: ReleaseImage, ms: number, fastPaths: ReadonlyArray<string | undefined>): void {
  const conf = path.join(image.root, 'etc', 'greenlight', 'gunicorn.conf.py');
  const paths = fastPaths.filter((p): p is string => p !== undefined).map((p) => JSON.stringify(p));
  fs.appendFileSync(
    conf,
    [
      '',
      '# greenlight rehearsal, latency-regression: pages answer later, health checks at once.',
      'import time as _greenlight_time',
      '',
      '',
      'def pre_request(worker, req):',
      `    if req.path not in (${paths.join(', ')},):`,
      `        _greenlight_time.sleep(${ms / 1000})`,
      '',
    ].join('\n'),
  );
}
