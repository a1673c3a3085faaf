// The rehearsal's report: what the load saw, what the gate, smoke checks, traffic steps and bake decided and why,
// where the release ended up, and the phase timeline. Rendered for people, or as JSON for pipelines
// and tests. Pure.
import type { BakeFigures } from './haproxy-state';
import type { LoadResult } from './load';
import type { ReleaseOutcome } from './scenarios';
import type { SmokeRequest } from './smoke';
import type { ReleaseFigures } from '../traffic/compare';

export interface TimelineEntry {
  /** Milliseconds since the rehearsal started. */
  readonly atMs: number;
  readonly phase: string;
  readonly detail?: string;
}

export interface InstanceReport {
  readonly name: string;
  readonly address: string;
  readonly release: string;
  /** `started`, or `failed in step <step>: <detail>`. */
  readonly boot: string;
}

export interface SmokeReport {
  readonly verdict: 'pass' | 'fail';
  readonly message: string;
  /** Each path as requested through the preview route, and who answered it. */
  readonly requests: readonly SmokeRequest[];
}

export interface BakeReport {
  readonly verdict: 'pass' | 'fail';
  readonly reason: string;
  /** The window and poll interval, scaled; the limits as configured. */
  readonly durationMs: number;
  readonly pollIntervalMs: number;
  readonly maxErrorRate: number;
  readonly maxErrors: number;
  /** Green's backend at the verdict: counters since the cutover, healthy and unhealthy servers. */
  readonly figures: BakeFigures;
  readonly decidedAfterCutoverMs: number;
  /** After a breach: the load's failed requests sent between the cutover and the switch back, and after it. */
  readonly failedBeforeSwitchBack?: number;
  readonly failedAfterSwitchBack?: number;
  /** From the first failed request to the bake's verdict. */
  readonly detectionMs?: number;
  /** From the first failed request until the listener pointed at blue again. */
  readonly switchedBackAfterFirstFailureMs?: number;
  /** Requests sent, failed or not, from the first failed request until the switch back. */
  readonly sentFromFirstFailure?: number;
}

/** The traffic steps: the verdict, where they stopped, both releases' figures there, and the load's failures. */
export interface TrafficReport {
  readonly verdict: 'pass' | 'fail';
  readonly reason: string;
  readonly steps: readonly number[];
  /** Each step's duration, scaled, and the poll interval. */
  readonly stepDurationMs: number;
  readonly pollIntervalMs: number;
  /** The step (from 1) and green's share in percent when the steps ended. */
  readonly step: number;
  readonly weight: number;
  /** The verdict line of each step passed. */
  readonly passed: readonly string[];
  /** Green's and blue's figures over the last step's window. */
  readonly release: ReleaseFigures;
  readonly live: ReleaseFigures;
  readonly decidedAfterStartMs: number;
  /** The load's failed requests from the first step's weights until every request went back to blue (or the cutover). */
  readonly failedDuringSteps: number;
  readonly failedAfterRestore?: number;
  /** From the first failed request to the refusing verdict. */
  readonly detectionMs?: number;
  /** Requests sent, failed or not, from the first failed request until every request went back to blue. */
  readonly sentFromFirstFailure?: number;
  /** From the first failed request until every request went back to blue (or the verdict, when none did). */
  readonly restoredAfterFirstFailureMs?: number;
}

/** A rollback to the standby (blue kept running): its gate, and when blue served every request again. */
export interface RollbackReport {
  readonly verdict: 'pass' | 'fail';
  readonly reason: string;
  readonly gatePolls: number;
  /** From the rollback command to the listener's switch back (the gate on blue's backend, then one `set map`). */
  readonly switchedAfterMs?: number;
  /** From the rollback command until blue answered every request: the switch, or green's last answer if later. */
  readonly blueServesAllAfterMs?: number;
  /** The load's failed requests sent from the rollback command on. */
  readonly failedDuringRollback: number;
}

/** The migration check before green launched; with the check overridden, what blue's load saw once green migrated. */
export interface MigrationsReport {
  readonly verdict: 'pass' | 'fail';
  /** The check's one-line verdict. */
  readonly summary: string;
  /** Operations that break blue or need a look. */
  readonly findings: readonly string[];
  /** Green was not launched. */
  readonly refused: boolean;
  /** The check failed and green was played anyway (--ignore-migration-check). */
  readonly overridden: boolean;
  /** From the start until green's first migration was recorded applied. */
  readonly greenMigratedAfterMs?: number;
  /** Failed requests sent from green's migration until the cutover, while blue served them. */
  readonly blueFailuresAfterMigration?: number;
  readonly blueFirstFailureAfterMs?: number;
  /** Failed requests sent before green's migration ran. */
  readonly failuresBeforeMigration?: number;
  /** What broke blue, and when. */
  readonly cause?: string;
}

export interface RehearsalReport {
  readonly scenario: string;
  readonly summary: string;
  readonly environment: string;
  readonly timeScale: number;
  readonly releases: { readonly blue: string; readonly green: string };
  readonly instancesPerRelease: number;
  /** Effective settings after the time scale: what HAProxy and the gate actually used. */
  readonly healthCheck: {
    readonly path: string;
    readonly greenPath: string;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly healthyThreshold: number;
    readonly unhealthyThreshold: number;
    readonly matcher: string;
  };
  readonly gatePolicy: { readonly consecutiveHealthyPolls: number; readonly pollIntervalMs: number; readonly timeoutMs: number };
  readonly expected: string;
  readonly expectedVerdict: 'pass' | 'fail';
  /** The migration check, run before green launched. */
  readonly migrations?: MigrationsReport;
  readonly gate: {
    /** `not run` when green never launched. */
    readonly verdict: 'pass' | 'fail' | 'not run';
    readonly reason: string;
    readonly polls: number;
    readonly maxConsecutiveHealthy: number;
  };
  /** Where the release ended up, and the phase that failed when it was rolled back. */
  readonly outcome: ReleaseOutcome;
  readonly phaseFailed?: 'migrations' | 'gate' | 'smoke' | 'traffic' | 'bake';
  /** After a failed gate, smoke check, traffic step or bake: the last exception a green instance's app logged. */
  readonly appException?: string;
  /** Present when the environment has smoke checks and the gate passed. */
  readonly smoke?: SmokeReport;
  /** Present when the environment has traffic steps and the smoke checks passed. */
  readonly traffic?: TrafficReport;
  /** Present when the environment has a bake window and the cutover happened. */
  readonly bake?: BakeReport;
  /** Present when the scenario rolls back to the standby. */
  readonly rollback?: RollbackReport;
  /** From the start of the rehearsal until every green instance was healthy in the load balancer. */
  readonly greenHealthyAfterMs?: number;
  readonly load: LoadResult;
  readonly instances: readonly InstanceReport[];
  /** The release serving at the end, and whether each of its instances still answers its health check. */
  readonly servingAfter: {
    readonly release: string;
    readonly instances: ReadonlyArray<{ readonly name: string; readonly running: boolean; readonly health: number | string }>;
  };
  readonly timeline: readonly TimelineEntry[];
  /** Why the outcome differs from the scenario's expected one. */
  readonly mismatch?: string;
  /** The outcome was the expected one, no request failed, and the serving release still serves. */
  readonly ok: boolean;
  readonly workDir: string;
  readonly durationMs: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const counts = (r: Readonly<Record<string, number>>) =>
  Object.keys(r).length === 0 ? '0' : Object.entries(r).map(([k, v]) => `${v}× ${k}`).join(', ');

function smokeLines(smoke: SmokeReport | undefined): string[] {
  if (!smoke) return [];
  return [
    'smoke (through the preview route)',
    `  verdict            ${smoke.verdict}: ${smoke.message}`,
    ...smoke.requests.map(
      (q) => `  GET ${[q.path, ...(q.redirects ?? [])].join(' -> ').padEnd(15)} ${q.status ?? q.error ?? 'no answer'}${q.servedBy ? ` from ${q.servedBy}` : ''}`,
    ),
    '',
  ];
}

function bakeLines(bake: BakeReport | undefined): string[] {
  if (!bake) return [];
  const f = bake.figures;
  const lines = [
    'bake',
    `  verdict            ${bake.verdict} ${seconds(bake.decidedAfterCutoverMs)} after the cutover: ${bake.reason}`,
    `  window             ${seconds(bake.durationMs)}, polled every ${bake.pollIntervalMs} ms; limits ${bake.maxErrorRate}% and ${bake.maxErrors} 5xx`,
    `  green's backend    ${f.requests} requests, ${f.errors5xx} 5xx since the cutover; ${f.healthyHosts} healthy, ${f.unhealthyHosts} unhealthy servers`,
  ];
  if (bake.failedBeforeSwitchBack !== undefined) {
    lines.push(`  failed requests    ${bake.failedBeforeSwitchBack} before the switch back to blue, ${bake.failedAfterSwitchBack ?? 0} after`);
  }
  if (bake.detectionMs !== undefined) {
    lines.push(`  detection          ${seconds(bake.detectionMs)} from the first failed request to the bake's verdict`);
    lines.push(`  switched back      ${seconds(bake.switchedBackAfterFirstFailureMs ?? 0)} after the first failed request`);
  }
  return [...lines, ''];
}

function trafficLines(t: TrafficReport | undefined): string[] {
  if (!t) return [];
  const p99 = (f: ReleaseFigures) => (f.p99Ms === undefined ? 'no p99' : `p99 ${Math.round(f.p99Ms)} ms`);
  const lines = [
    'traffic steps',
    `  verdict            ${t.verdict} ${seconds(t.decidedAfterStartMs)} after the first step: ${t.reason}`,
    `  steps              ${t.steps.map((s) => `${s}%`).join(', ')}, ${seconds(t.stepDurationMs)} each, polled every ${t.pollIntervalMs} ms; ended at step ${t.step} (${t.weight}%)`,
    ...t.passed.map((line) => `  passed             ${line}`),
    `  green's backend    ${t.release.requests} requests, ${t.release.errors5xx} 5xx, ${p99(t.release)} in the step`,
    `  blue's backend     ${t.live.requests} requests, ${t.live.errors5xx} 5xx, ${p99(t.live)} in the step`,
    `  failed requests    ${t.failedDuringSteps} during the steps${t.failedAfterRestore !== undefined ? `, ${t.failedAfterRestore} after every request went back to blue` : ''}`,
  ];
  if (t.detectionMs !== undefined) lines.push(`  detection          ${seconds(t.detectionMs)} from the first failed request to the verdict`);
  return [...lines, ''];
}

function migrationLines(m: MigrationsReport | undefined): string[] {
  if (!m) return [];
  const lines = ['migrations (green on top of blue)', `  check              ${m.summary}`, ...m.findings.map((f) => `  ${f}`)];
  if (m.refused) lines.push('  green              refused before it launched: nothing migrated, blue served on');
  if (m.overridden) {
    lines.push('  green              played anyway (--ignore-migration-check)');
    if (m.greenMigratedAfterMs !== undefined) lines.push(`  green migrated     ${seconds(m.greenMigratedAfterMs)} after start`);
    if (m.blueFailuresAfterMigration !== undefined) lines.push(`  blue's failures    ${m.blueFailuresAfterMigration} from green's migration until the cutover, ${m.failuresBeforeMigration ?? 0} before it`);
    if (m.cause) lines.push(`  cause              ${m.cause}`);
  }
  return [...lines, ''];
}

function rollbackLines(rollback: RollbackReport | undefined): string[] {
  if (!rollback) return [];
  const at = (ms: number | undefined) => (ms === undefined ? 'never' : `${seconds(ms)} after the rollback command`);
  return [
    'rollback to the standby (blue kept running)',
    `  gate on blue       ${rollback.verdict} after ${rollback.gatePolls} polls: ${rollback.reason}`,
    `  switched back      ${at(rollback.switchedAfterMs)}`,
    `  blue serves all    ${at(rollback.blueServesAllAfterMs)}`,
    `  failed requests    ${rollback.failedDuringRollback} from the rollback command on`,
    '',
  ];
}

/** The human-readable report. */
export function renderReport(r: RehearsalReport): string {
  const hc = r.healthCheck;
  const sum = (counted: Readonly<Record<string, number>>) => Object.values(counted).reduce((a, b) => a + b, 0);
  const total = sum(r.load.connectionErrors);
  const redirects = sum(r.load.redirects);
  const errors5xx = sum(r.load.serverErrors);
  const errors4xx = sum(r.load.clientErrors);
  const lines = [
    `greenlight rehearsal: ${r.ok ? 'OK' : 'FAILED'}`,
    '',
    `scenario      ${r.scenario}: ${r.summary}`,
    `environment   ${r.environment}, ${r.instancesPerRelease} instances per release, time scale ${r.timeScale}`,
    `releases      blue ${r.releases.blue} -> green ${r.releases.green}`,
    `health check  GET ${hc.path}${hc.greenPath !== hc.path ? ` (green: ${hc.greenPath})` : ''} every ${hc.intervalMs} ms, timeout ${hc.timeoutMs} ms, ` +
      `healthy ${hc.healthyThreshold}, unhealthy ${hc.unhealthyThreshold}, matcher ${hc.matcher}`,
    `gate policy   ${r.gatePolicy.consecutiveHealthyPolls} consecutive healthy polls, every ${r.gatePolicy.pollIntervalMs} ms, timeout ${r.gatePolicy.timeoutMs} ms`,
    '',
    'load (counted as a load balancer counts: 2xx and 3xx are served; 5xx and connection errors fail)',
    `  requested          GET ${r.load.paths.join(', ')}${r.load.paths.length > 1 ? ' in turn' : ''}`,
    `  requests sent      ${r.load.sent} in ${seconds(r.load.durationMs)}`,
    `  served             ${r.load.served}${redirects > 0 ? ` (${redirects} redirects: ${counts(r.load.redirects)})` : ''}`,
    `  4xx (not failed)   ${errors4xx}${errors4xx > 0 ? ` (${counts(r.load.clientErrors)})` : ''}`,
    `  5xx                ${errors5xx}${errors5xx > 0 ? ` (${counts(r.load.serverErrors)})` : ''}`,
    `  connection errors  ${total}${total > 0 ? ` (${counts(r.load.connectionErrors)})` : ''}`,
    `  error seconds      ${r.load.errorSeconds}`,
    `  latency            p50 ${r.load.latencyMs.p50} ms, p99 ${r.load.latencyMs.p99} ms, max ${r.load.latencyMs.max} ms`,
    `  served by          ${counts(r.load.servedBy)}`,
    '',
    ...migrationLines(r.migrations),
    'gate',
    r.gate.verdict === 'not run'
      ? '  verdict            not run'
      : `  verdict            ${r.gate.verdict} after ${r.gate.polls} polls (most consecutive healthy: ${r.gate.maxConsecutiveHealthy})`,
    `  reason             ${r.gate.reason}`,
    `  green healthy      ${r.greenHealthyAfterMs === undefined ? 'never' : `${seconds(r.greenHealthyAfterMs)} after start`}`,
    '',
    ...smokeLines(r.smoke),
    ...trafficLines(r.traffic),
    ...bakeLines(r.bake),
    ...rollbackLines(r.rollback),
    `release       ${r.outcome}${r.phaseFailed ? ` (phase ${r.phaseFailed} failed)` : ''}`,
    ...(r.appException ? [`cause         ${r.appException}`] : []),
    '',
    'instances',
    ...r.instances.map((i) => `  ${i.name.padEnd(9)} ${i.address.padEnd(11)} ${i.release.padEnd(14)} ${i.boot}`),
    '',
    `serving after (${r.servingAfter.release})`,
    ...r.servingAfter.instances.map((i) => `  ${i.name.padEnd(9)} ${i.running ? 'running' : 'NOT RUNNING'}, GET health -> ${i.health}`),
    '',
    'timeline',
    ...r.timeline.map((t) => `  ${seconds(t.atMs).padStart(8)}  ${t.phase}${t.detail ? `: ${t.detail}` : ''}`),
    '',
    `expected      ${r.expected}`,
    `outcome       ${r.mismatch ? `DIFFERENT: ${r.mismatch}` : 'as expected'}`,
    `failed requests ${r.load.failed} of ${r.load.sent}`,
    `logs          ${r.workDir}`,
  ];
  return `${lines.join('\n')}\n`;
}
