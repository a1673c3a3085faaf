// The rehearsal's verdict on one release: the scenario's expectations checked against what each
// phase decided, every instance's boot, the load's failures and who serves at the end, put into
// the report (report.ts renders it).
import type { BakeReport, MigrationsReport, RehearsalReport, TrafficReport } from './report';
import type { AfterGate } from './cutover';
import type { GreenGated } from './green';
import type { BootResult, Instance } from './instance';
import type { Stage } from './stage';

export interface ReleaseFacts {
  readonly blue: readonly Instance[];
  readonly blueBoots: readonly BootResult[];
  /** Absent when the migration check refused green before it launched. */
  readonly green?: GreenGated;
  /** Green's boots, the scale-out's included. */
  readonly greenBoots: readonly BootResult[];
  readonly after: AfterGate;
  readonly traffic?: TrafficReport;
  readonly bake?: BakeReport;
  readonly migrations?: MigrationsReport;
  readonly load: RehearsalReport['load'];
  readonly servingAfter: RehearsalReport['servingAfter'];
}

const describeBoot = (r: BootResult | undefined) =>
  !r ? 'not booted' : r.ok ? 'started' : `failed in step ${r.step}: ${r.detail}${r.log ? ` (log: ${r.log})` : ''}`;

export function releaseReport(stage: Stage, facts: ReleaseFacts): RehearsalReport {
  const { o, check } = stage;
  const { gate, scaleOut } = facts.green ?? {};
  const { outcome, smoke, traffic, bake, rollback } = facts.after;
  const m = facts.migrations;
  const gateVerdict = !gate ? 'not run' : gate.decision.verdict === 'pass' ? 'pass' : 'fail';
  const gateReason = gate?.decision.message ?? 'green never launched: the migration check refused it';
  const mismatch = o.scenario.check({
    verdict: gateVerdict,
    reason: gateReason,
    maxConsecutiveHealthy: gate?.maxConsecutiveHealthy ?? 0,
    consecutiveHealthyPolls: stage.policy.consecutiveHealthyPolls,
    greenBoots: facts.greenBoots.map(describeBoot),
    greenEverHealthy: (gate?.everHealthy.size ?? 0) > 0,
    ...(facts.green?.checkAnswer ? { greenCheckAnswer: { path: stage.greenCheck.path, ...facts.green.checkAnswer } } : {}),
    ...(smoke ? { smoke: smoke.verdict } : {}),
    ...(traffic ? { traffic: { verdict: traffic.decision.verdict === 'fail' ? 'fail' : 'pass', reason: traffic.decision.message } } : {}),
    ...(bake ? { bake: { verdict: bake.decision.verdict === 'pass' ? 'pass' : 'fail', reason: bake.decision.message } } : {}),
    outcome,
    scaleOut: scaleOut?.facts(),
    ...(rollback ? { rollback: { verdict: rollback.verdict, reason: rollback.reason } } : {}),
    ...(m
      ? {
          migrations: {
            verdict: m.verdict,
            refused: m.refused,
            overridden: m.overridden,
            ...(m.blueFailuresAfterMigration !== undefined ? { blueFailuresAfterMigration: m.blueFailuresAfterMigration } : {}),
            ...(m.failuresBeforeMigration !== undefined ? { failuresBeforeMigration: m.failuresBeforeMigration } : {}),
          },
        }
      : {}),
  });
  const instances = [
    ...facts.blue.map((b, i) => ({ inst: b, release: stage.blueRelease, boot: facts.blueBoots[i] })),
    ...(facts.green?.green ?? []).map((g, i) => ({ inst: g, release: stage.greenRelease, boot: facts.greenBoots[i] })),
  ].map(({ inst, release, boot }) => ({ name: inst.name, address: inst.address, release, boot: describeBoot(boot) }));
  const stillServing = facts.servingAfter.instances.every((s) => s.running && s.health === 200);
  // A step or a bake that caught a breaking release bounds its failures, and so does a breaking
  // migration played on purpose (from green's migration to the cutover); none may fall outside those windows.
  const failedOutsideWindows =
    facts.load.failed -
    (facts.bake?.failedBeforeSwitchBack ?? 0) -
    (facts.traffic?.verdict === 'fail' ? facts.traffic.failedDuringSteps : 0) -
    (m?.overridden ? (m.blueFailuresAfterMigration ?? 0) : 0);
  const ok = mismatch === undefined && failedOutsideWindows === 0 && stillServing;
  const phaseFailed = !gate
    ? 'migrations'
    : gate.decision.verdict !== 'pass'
      ? 'gate'
      : smoke?.verdict === 'fail'
        ? 'smoke'
        : traffic?.decision.verdict === 'fail'
          ? 'traffic'
          : bake?.decision.verdict === 'fail'
            ? 'bake'
            : undefined;
  // The cause behind a failed gate, smoke check or bake, as far as the app logged it: an instance's last exception.
  const logged =
    phaseFailed === 'gate' || phaseFailed === 'smoke' || phaseFailed === 'bake' || phaseFailed === 'traffic'
      ? (facts.green?.green ?? []).map((g) => ({ name: g.name, exception: g.lastException() })).find((g) => g.exception !== undefined)
      : undefined;
  return {
    scenario: o.scenario.name,
    summary: o.scenario.summary,
    environment: o.environment,
    timeScale: o.timeScale,
    releases: { blue: stage.blueRelease, green: stage.greenRelease },
    instancesPerRelease: stage.n,
    healthCheck: {
      path: check.path,
      greenPath: stage.greenCheck.path,
      intervalMs: check.intervalMs,
      timeoutMs: check.timeoutMs,
      healthyThreshold: check.rise,
      unhealthyThreshold: stage.greenCheck.fall,
      matcher: check.matcher,
    },
    gatePolicy: {
      consecutiveHealthyPolls: stage.policy.consecutiveHealthyPolls,
      pollIntervalMs: stage.policy.pollIntervalMs,
      timeoutMs: stage.policy.timeoutMs,
    },
    expected: o.scenario.expected,
    expectedVerdict: o.scenario.expectedVerdict,
    ...(m ? { migrations: m } : {}),
    gate: { verdict: gateVerdict, reason: gateReason, polls: gate?.polls ?? 0, maxConsecutiveHealthy: gate?.maxConsecutiveHealthy ?? 0 },
    ...(gate?.firstAllHealthyAt !== undefined ? { greenHealthyAfterMs: gate.firstAllHealthyAt - stage.started } : {}),
    outcome,
    ...(phaseFailed ? { phaseFailed } : {}),
    ...(logged?.exception ? { appException: `${logged.name}'s app log: ${logged.exception}` } : {}),
    ...(smoke ? { smoke } : {}),
    ...(facts.traffic ? { traffic: facts.traffic } : {}),
    ...(facts.bake ? { bake: facts.bake } : {}),
    ...(rollback ? { rollback } : {}),
    load: facts.load,
    instances,
    servingAfter: facts.servingAfter,
    timeline: stage.timeline,
    ...(mismatch ? { mismatch } : {}),
    ok,
    workDir: o.workDir,
    durationMs: Date.now() - stage.started,
  };
}
