// One blue/green release played on this machine, in the phases AWS plays: blue (release A) serves under
// load (blue.ts); green (release B) boots and registers with the load balancer while the gate polls
// (green.ts); smoke checks go through the preview route, the listener moves to green and a bake window
// watches green's backend (cutover.ts); only after a clean bake does blue drain and stop (retire.ts). A
// failed gate or smoke check deregisters and stops green before any user reaches it; a failed bake
// switches the listener back to blue, which still runs (rollback.ts). This file runs them in order.
import * as fs from 'node:fs';
import { bringUpBlue, finishLoad } from './blue';
import { bakeReport } from './bake';
import { afterGate, type AfterGate } from './cutover';
import { launchGreenAndGate } from './green';
import type { LoadResult } from './load';
import { checkGreenMigrations, migrationsReport } from './migrations';
import { probe } from './net';
import { ProcessSupervisor } from './processes';
import { releaseReport } from './release-report';
import type { RehearsalReport, TimelineEntry } from './report';
import { retire } from './retire';
import { RunGuard } from './run-guard';
import { trafficReport } from './traffic';
import { Stage, type RehearsalOptions } from './stage';

export { bakePolicyFrom } from './bake';
export { loadHostHeader } from './blue';
export { gatePolicyFrom, type LiveRehearsal, type RehearsalOptions } from './stage';

/**
 * Runs `body` with a supervisor whose processes all stop when it ends, fails or is interrupted; a
 * watchdog stops them if the rehearsal itself is killed, and a dead run's leftovers are stopped first.
 */
async function supervised<T>(options: RehearsalOptions, body: (stage: Stage) => Promise<T>): Promise<T> {
  const log = options.log ?? (() => undefined);
  fs.mkdirSync(options.workDir, { recursive: true });
  const guard = new RunGuard(options.workDir, log);
  const supervisor = new ProcessSupervisor(guard);
  const stage = new Stage(options, supervisor, log);
  supervisor.installExitHandlers(async (signal) => {
    log(`${signal}: stopping the rehearsal's processes`);
    await supervisor.stopAll();
    await stage.cleanUp();
    guard.release();
  });
  try {
    return await body(stage);
  } finally {
    // A signal's stop killed what the body was waiting on: its exit code (130/143) is the outcome.
    if (supervisor.signalStop) await supervisor.signalStop;
    // A boot still under way must not start anything once the rehearsal winds down.
    supervisor.close();
    await supervisor.stopAll();
    await stage.cleanUp();
    guard.release();
    supervisor.uninstallExitHandlers();
  }
}

/** Plays the release and returns the report; every process it started is stopped before it returns. */
export function rehearse(options: RehearsalOptions): Promise<RehearsalReport> {
  return supervised(options, play);
}

/** The same fleet, load and new release, deployed by restarting gunicorn in place (for bench:cutover). */
export function restartInPlace(options: RehearsalOptions): Promise<{ load: LoadResult; timeline: readonly TimelineEntry[] }> {
  return supervised(options, async (stage) => {
    // The deploy greenlight replaces: on the live instances, stop the old gunicorn and start the new
    // release's, while nginx keeps taking requests.
    stage.mark('start', 'naive restart in place');
    const { greenImage, blue, load } = await bringUpBlue(stage);
    await Promise.all(
      blue.map(async (b) => {
        await b.stopApp();
        await b.startApp(greenImage);
      }),
    );
    stage.mark('restarted in place', `every instance runs ${stage.greenRelease}`);
    const result = await finishLoad(stage, load);
    return { load: result, timeline: stage.timeline };
  });
}

async function play(stage: Stage): Promise<RehearsalReport> {
  const { o } = stage;
  stage.mark('start', `scenario ${o.scenario.name}: ${o.scenario.summary}`);
  const live = await bringUpBlue(stage);
  const checked = await checkGreenMigrations(stage, live);
  // A refused green never launches: nothing migrates, and blue serves on.
  const green = checked.refused ? undefined : await launchGreenAndGate(stage, live);
  const after: AfterGate = green ? await afterGate(stage, live, green) : { outcome: 'refused before green launched' };

  if (after.rollback?.verdict === 'fail') await retire(stage, live.blue);
  const serving = after.outcome === 'live' && green ? green.green : live.blue;
  const servingRelease = after.outcome === 'live' ? stage.greenRelease : stage.blueRelease;
  const servingAfter = await Promise.all(
    serving.map(async (s) => ({ name: s.name, running: s.running(), health: await probe(s.address, s.port, stage.check.path, s.address) })),
  );
  const load = await finishLoad(stage, live.load);
  const bake = after.bake && after.cutoverAt !== undefined ? bakeReport(stage, after.bake, live.load, after.cutoverAt, after.switchBackAt) : undefined;
  const migrations = await migrationsReport(stage, checked, live, after);
  const traffic = after.traffic ? trafficReport(stage, after.traffic, live.load) : undefined;

  await o.onFinished?.({ frontend: live.frontend, blue: live.blue, green: green?.green ?? [], servingRelease, api: stage.api, hostHeader: stage.hostHeader });
  await stage.supervisor.stop(live.haproxy);

  const greenBoots = green ? [...(await green.greenBoots), ...(green.scaleOut?.boot ? [await green.scaleOut.boot] : [])] : [];
  return releaseReport(stage, {
    blue: live.blue,
    blueBoots: live.blueBoots,
    ...(green ? { green } : {}),
    greenBoots,
    after,
    ...(traffic ? { traffic } : {}),
    ...(bake ? { bake } : {}),
    migrations,
    load,
    servingAfter: { release: servingRelease, instances: servingAfter },
  });
}
