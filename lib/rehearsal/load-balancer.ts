// The load balancer, played by HAProxy: started with blue's backend live and green's empty, drained
// one backend at a time, and its listener moved between the two with one atomic `set map`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cutoverCommand, renderHaproxyConfig, renderLiveMap, renderWeightsMap, weightCommand } from './haproxy-config';
import type { ServerStatus } from './haproxy-state';
import type { Instance } from './instance';
import type { ManagedProcess } from './processes';
import { RuntimeApi } from './runtime-api';
import { RehearsalStopped, sleep, type Stage } from './stage';

/** Starts HAProxy with blue live and returns once it reports every blue server up; sets `stage.api`. */
export async function startHaproxy(stage: Stage, frontend: { address: string; port: number }, blue: readonly Instance[]): Promise<ManagedProcess> {
  const { o } = stage;
  const dir = stage.dir('haproxy');
  const socketPath = path.join(dir, 'admin.sock');
  const liveMapPath = path.join(dir, 'live.map');
  fs.writeFileSync(liveMapPath, renderLiveMap(stage.blueBackend));
  // With traffic steps, green's share starts at 0 and each step sets it, as the weighted forward does.
  if (o.settings.traffic) fs.writeFileSync(weightsMapPath(stage), renderWeightsMap(0));
  const configPath = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(
    configPath,
    renderHaproxyConfig({
      frontend,
      socketPath,
      liveMapPath,
      liveBackend: stage.blueBackend,
      listenerProtocol: o.settings.listener.protocol,
      preview: { header: o.settings.preview.header },
      ...(o.settings.traffic ? { canary: { backend: stage.greenBackend, weightsMapPath: weightsMapPath(stage) } } : {}),
      backends: [
        {
          name: stage.blueBackend,
          release: stage.blueRelease,
          previewKey: stage.previewKeys.get(stage.blueRelease),
          check: stage.check,
          servers: blue.map((b) => ({ name: b.name, address: b.address, port: b.port })),
        },
        { name: stage.greenBackend, release: stage.greenRelease, previewKey: stage.previewKeys.get(stage.greenRelease), check: stage.greenCheck, servers: [] },
      ],
    }),
    // It holds the preview keys: readable by this user only, like the SecureStrings on AWS.
    { mode: 0o600 },
  );
  const proc = stage.supervisor.start('haproxy', 'haproxy', ['-f', configPath, '-db'], { logPath: path.join(dir, 'haproxy.log') });
  stage.api = new RuntimeApi(socketPath);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitReason() !== undefined) {
      throw new RehearsalStopped(`HAProxy exited (${proc.exitReason()}): ${fs.readFileSync(proc.logPath, 'utf8').trim().split('\n').slice(-3).join(' ')}; log ${proc.logPath}`);
    }
    const servers = await stage.api.servers().catch(() => [] as ServerStatus[]);
    const up = servers.filter((s) => s.backend === stage.blueBackend && s.opState === 2);
    if (up.length === blue.length) return proc;
    if (Date.now() > deadline) throw new RehearsalStopped(`HAProxy did not report blue up within 15 s; log ${proc.logPath}`);
    await sleep(50);
  }
}

/** Waits until a backend's servers hold no sessions, bounded by the deregistration delay. */
export async function drain(stage: Stage, backend: string): Promise<number> {
  const bound = Math.max(1_000, stage.o.settings.deregistrationDelay * 1000 * stage.o.timeScale);
  const deadline = Date.now() + bound;
  for (;;) {
    const sessions = (await stage.api.servers()).filter((s) => s.backend === backend).reduce((sum, s) => sum + s.currentSessions, 0);
    if (sessions === 0 || Date.now() > deadline) return sessions;
    await sleep(20);
  }
}

/** Points the listener's default at `backend` (one atomic `set map`); returns when HAProxy acknowledged it. */
export async function switchTo(stage: Stage, backend: string): Promise<number> {
  await stage.api.run([cutoverCommand(path.join(stage.o.workDir, 'haproxy', 'live.map'), backend)]);
  return Date.now();
}

const weightsMapPath = (stage: Stage) => path.join(stage.o.workDir, 'haproxy', 'weights.map');

/** Gives green `percent` of the listener's requests (one atomic `set map`); returns when HAProxy acknowledged it. */
export async function setGreenWeight(stage: Stage, percent: number): Promise<number> {
  await stage.api.run([weightCommand(weightsMapPath(stage), percent)]);
  return Date.now();
}
