// The second phase: green (the new release) launches as an Auto Scaling group would launch it:
// each instance registers with green's backend, then runs first boot, while the gate polls. The
// scenarios that break green act here: its database down, a mid-gate scale-out, a flapping app.
import * as path from 'node:path';
import type { BlueServing } from './blue';
import { launchFleet, launchInstance, releaseSsm } from './fleet';
import { runGate, type GateRun } from './gate';
import { addServerCommand, enableServerCommands } from './haproxy-config';
import type { InstanceProcessState, ServerStatus } from './haproxy-state';
import type { BootResult, Instance } from './instance';
import { ephemeralPort, probeRedirect } from './net';
import { Postgres } from './postgres';
import { MidGateScaleOut } from './scale-out';
import { sleep, type Stage } from './stage';

/** Green after the gate's verdict. */
export interface GreenGated {
  readonly green: Instance[];
  /** First boot of each launched instance (the scale-out's boot comes with the scale-out). */
  readonly greenBoots: Promise<BootResult[]>;
  /** Instances a rollback has stopped: the gate then sees them terminated. */
  readonly terminated: Set<string>;
  readonly gate: GateRun;
  readonly scaleOut?: MidGateScaleOut;
  /** Green's own SQLite database, when the scenario breaks it after the cutover. */
  readonly greenDatabase: string;
  /** Green's first instance's answer to its check path, asked as the load balancer asks, once the gate is over (when the scenario wants it). */
  readonly checkAnswer?: { readonly status: number | string; readonly location?: string };
}

export async function launchGreenAndGate(stage: Stage, { greenImage, port, config }: BlueServing): Promise<GreenGated> {
  const { o } = stage;
  const { scenario } = o;
  // Green: its own database when the scenario takes it down.
  let postgres: Postgres | undefined;
  let greenConfig: Record<string, string> = { ...config };
  // Its own database when the scenario breaks it after the cutover: blue's must stay whole.
  const greenDatabase = path.join(stage.dir('db'), 'green.sqlite3');
  if (scenario.greenBreaksAfterCutover) greenConfig = { ...greenConfig, DATABASE_URL: `sqlite:///${greenDatabase}` };
  if (scenario.greenDatabaseDown) {
    const db = new Postgres(stage.dir('postgres'), await ephemeralPort(), stage.supervisor);
    stage.cleanups.push(() => db.remove());
    postgres = db;
    await db.start('app');
    greenConfig = { ...greenConfig, DATABASE_URL: postgres.url('app') };
    stage.mark('green database up', `PostgreSQL on 127.0.0.1:${postgres.port}`);
  }
  const greenSsm = await releaseSsm(stage, 'green', greenImage, greenConfig);
  const green = launchFleet(stage, 'green', greenImage, port, greenSsm);
  const terminated = new Set<string>();
  const greenStates = (): InstanceProcessState[] =>
    green.map((g) => ({ name: g.name, lifecycleState: terminated.has(g.name) ? 'Terminated' : 'InService' }));

  // Like an Auto Scaling group: launch, register with the target group, then first boot runs.
  for (const g of green) {
    await stage.api.run([
      addServerCommand(stage.greenBackend, { name: g.name, address: g.address, port }, stage.greenCheck),
      ...enableServerCommands(stage.greenBackend, g.name),
    ]);
  }
  stage.mark('green launched', `${stage.n} instances of ${stage.greenRelease} registered in ${stage.greenBackend}`);
  const greenBoots = Promise.all(
    green.map(async (g) => {
      const result = await g.start();
      stage.mark(`${g.name} ${result.ok ? 'booted' : 'boot failed'}`, result.ok ? undefined : `step ${result.step}: ${result.detail}; log ${result.log}`);
      return result;
    }),
  );
  const afterBoot = greenBoots.then(async () => {
    if (postgres) {
      await postgres.stop();
      stage.mark('green database stopped', 'PostgreSQL is down while green waits for its health checks');
    }
  });

  const scaleOut = scenario.greenScalesOutMidGate
    ? new MidGateScaleOut({
        api: stage.api,
        backend: stage.greenBackend,
        check: stage.greenCheck,
        initialDesired: stage.n,
        launch: () => launchInstance(stage, 'green', green.length, greenImage, port, greenSsm),
        fleet: green,
        mark: (phase, detail) => stage.mark(phase, detail),
      })
    : undefined;
  const flapping = { stop: false, done: Promise.resolve() };
  if (scenario.greenFlaps) flapping.done = flap(stage, green[0], () => flapping.stop);

  if (o.gateAfterBoot || scenario.greenCheckAnswerMatters) await afterBoot;
  stage.mark('gate polling', `${stage.policy.consecutiveHealthyPolls} consecutive healthy polls needed`);
  let greenHealthy = false;
  const gate = await runGate({
    api: stage.api,
    backend: stage.greenBackend,
    instances: greenStates,
    policy: stage.policy,
    desiredCapacity: () => scaleOut?.desiredCapacity() ?? stage.n,
    log: stage.progress(),
    onPoll: (_observation, decision) => {
      if (!greenHealthy && decision.progress.consecutiveHealthy > 0) {
        greenHealthy = true;
        stage.mark('green healthy', `every green instance is healthy in ${stage.greenBackend}`);
      }
      scaleOut?.onPoll(decision);
    },
  });
  flapping.stop = true;
  await flapping.done;
  await afterBoot;
  stage.mark(`gate ${gate.decision.verdict}`, gate.decision.message);
  const checkAnswer =
    scenario.greenCheckAnswerMatters && green[0] ? await probeRedirect(green[0].address, green[0].port, stage.greenCheck.path, green[0].address) : undefined;
  return { green, greenBoots, terminated, gate, scaleOut, greenDatabase, ...(checkAnswer ? { checkAnswer } : {}) };
}

/**
 * The flapping scenario: the instance's app crashes as soon as the load balancer marks it healthy,
 * stays down until the load balancer marks it unhealthy, and is then started again.
 */
async function flap(stage: Stage, instance: Instance, stopped: () => boolean): Promise<void> {
  const watchMs = Math.max(10, Math.round(stage.check.intervalMs / 50));
  let wasUp = false;
  while (!stopped()) {
    const server = (await stage.api.servers().catch(() => [] as ServerStatus[])).find((s) => s.backend === stage.greenBackend && s.name === instance.name);
    const up = server?.opState === 2;
    const appRunning = instance.gunicorn !== undefined && instance.gunicorn.exitReason() === undefined;
    if (up && !wasUp && appRunning) {
      await instance.crashApp();
      stage.mark(`${instance.name} app crashed`, 'right after turning healthy');
    } else if (server && !up && !appRunning && instance.boot?.ok) {
      await instance.startApp().catch((err: Error) => stage.mark(`${instance.name} restart failed`, err.message));
      stage.mark(`${instance.name} app restarted`, 'after the load balancer marked it unhealthy');
    }
    wasUp = up;
    await sleep(watchMs);
  }
}
