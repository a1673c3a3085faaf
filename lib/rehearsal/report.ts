// The rehearsal's report: what the load saw, what the gate decided and why, and the phase timeline.
// Rendered for people, or as JSON for pipelines and tests. Pure.
import type { LoadResult } from './load';

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
  readonly gate: {
    readonly verdict: 'pass' | 'fail';
    readonly reason: string;
    readonly polls: number;
    readonly maxConsecutiveHealthy: number;
  };
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

/** The human-readable report. */
export function renderReport(r: RehearsalReport): string {
  const hc = r.healthCheck;
  const total = Object.values(r.load.connectionErrors).reduce((a, b) => a + b, 0);
  const non2xx = r.load.failed - total;
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
    'load',
    `  requests sent      ${r.load.sent} in ${seconds(r.load.durationMs)}`,
    `  2xx                ${r.load.ok}`,
    `  non-2xx            ${non2xx}${non2xx > 0 ? ` (${counts(r.load.non2xx)})` : ''}`,
    `  connection errors  ${total}${total > 0 ? ` (${counts(r.load.connectionErrors)})` : ''}`,
    `  error seconds      ${r.load.errorSeconds}`,
    `  latency            p50 ${r.load.latencyMs.p50} ms, p99 ${r.load.latencyMs.p99} ms, max ${r.load.latencyMs.max} ms`,
    `  served by          ${counts(r.load.servedBy)}`,
    '',
    'gate',
    `  verdict            ${r.gate.verdict} after ${r.gate.polls} polls (most consecutive healthy: ${r.gate.maxConsecutiveHealthy})`,
    `  reason             ${r.gate.reason}`,
    `  green healthy      ${r.greenHealthyAfterMs === undefined ? 'never' : `${seconds(r.greenHealthyAfterMs)} after start`}`,
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
