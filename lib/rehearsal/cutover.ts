// The phases after the gate: a passing gate leads to the smoke checks through the preview route,
// the traffic steps (with `traffic`), the cutover, the bake window, then blue retires (or, in the
// standby scenario, the rollback command); a failing gate, smoke check, step or bake rolls green
// back while blue still serves.
import type { BlueServing } from './blue';
import { bakeGreen, type BakeRun } from './bake';
import { dropAppTables } from './database-fault';
import type { GreenGated } from './green';
import { setGreenWeight, switchTo } from './load-balancer';
import type { RollbackReport, SmokeReport } from './report';
import { retire } from './retire';
import { rollBack, rollBackToStandby } from './rollback';
import type { ReleaseOutcome } from './scenarios';
import { smokeGreen } from './smoke';
import type { Stage } from './stage';
import { stepGreen, type TrafficRun } from './traffic';

export interface AfterGate {
  readonly outcome: ReleaseOutcome;
  readonly smoke?: SmokeReport;
  readonly traffic?: TrafficRun;
  readonly bake?: BakeRun;
  /** Epoch ms at which HAProxy acknowledged the cutover, and the switch back after a failed bake. */
  readonly cutoverAt?: number;
  readonly switchBackAt?: number;
  readonly rollback?: RollbackReport;
}

export async function afterGate(stage: Stage, { blue, frontend, load }: BlueServing, { green, terminated, gate, greenDatabase }: GreenGated): Promise<AfterGate> {
  const { o } = stage;
  const { scenario } = o;
  if (gate.decision.verdict !== 'pass') {
    await rollBack(stage, green, terminated);
    return { outcome: 'rolled back before cutover' };
  }
  const smoke = await smokeGreen(stage, frontend);
  if (smoke?.verdict === 'fail') {
    await rollBack(stage, green, terminated);
    return { outcome: 'rolled back before cutover', smoke };
  }
  // The scenario's fault strikes as soon as green has users: at the first traffic step, or the cutover.
  const breakGreen = async () => {
    if (!scenario.greenBreaksAfterCutover) return;
    const dropped = await dropAppTables(greenDatabase);
    stage.mark('green database broken', `${dropped} tables dropped; django_migrations still records every migration`);
  };
  const traffic = o.settings.traffic ? await stepGreen(stage, breakGreen) : undefined;
  if (traffic?.decision.verdict === 'fail') {
    await rollBack(stage, green, terminated);
    return { outcome: 'refused at a traffic step', ...(smoke ? { smoke } : {}), traffic };
  }
  const baseline = (await stage.api.backend(stage.greenBackend)).counters;
  const cutoverAt = await switchTo(stage, stage.greenBackend);
  stage.mark('cutover', `the listener sends every new request to ${stage.greenBackend}`);
  // The steps' share ends with the cutover, so a switch back after the bake sends green nothing.
  if (traffic) await setGreenWeight(stage, 0);
  else await breakGreen();
  const bake = o.settings.bake ? await bakeGreen(stage, o.settings.bake, baseline) : undefined;
  const passed = { ...(smoke ? { smoke } : {}), ...(traffic ? { traffic } : {}), ...(bake ? { bake } : {}), cutoverAt };
  if (bake?.decision.verdict === 'fail') {
    const switchBackAt = await switchTo(stage, stage.blueBackend);
    stage.mark('rolled back after cutover', `the listener sends every new request to ${stage.blueBackend} again, whose instances never stopped`);
    await rollBack(stage, green, terminated);
    return { outcome: 'rolled back after cutover', ...passed, switchBackAt };
  }
  if (scenario.rollbackToStandby) {
    const rollback = await rollBackToStandby(stage, blue, green, terminated, load);
    return { outcome: rollback.verdict === 'pass' ? 'switched back to the standby' : 'live', ...passed, rollback };
  }
  await retire(stage, blue);
  return { outcome: 'live', ...passed };
}
