// The deploy's report for a CI job page: a Markdown summary (verdict, diagnosis, phase timings) and,
// on failure, a GitHub Actions error annotation. Pure.
import { formatDuration } from '../health-gate/evaluate';
import type { ProgressRecord } from '../health-gate/progress-record';
import { CLOCK_SKEW_MS, type DeployOutcome } from './deploy-outcome';

export interface JobSummaryInput {
  readonly release: string;
  readonly envName: string;
  readonly stackName: string;
  readonly outcome: DeployOutcome;
  /** The gate's last record, if this deploy ran one. */
  readonly record?: ProgressRecord;
  /** Epoch milliseconds: when cdk started, and when it exited. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

export interface Phase {
  readonly name: string;
  readonly ms: number;
}

/** Where the deploy's time went: up to the gate's first poll, the gate, and after its verdict. */
export function deployPhases(i: JobSummaryInput): Phase[] {
  const record = i.record && i.record.progress.startedAt >= i.startedAt - CLOCK_SKEW_MS ? i.record : undefined;
  const total: Phase = { name: 'total', ms: i.finishedAt - i.startedAt };
  if (!record) return [total];
  const { startedAt, lastPollAt } = record.progress;
  const gateStart = Math.max(startedAt, i.startedAt);
  return [
    { name: 'stack update until the gate started (launch, boot, first health checks)', ms: gateStart - i.startedAt },
    { name: `health gate (${record.progress.polls} polls)`, ms: lastPollAt - gateStart },
    { name: 'after the gate (cutover, cleanup of the previous release)', ms: Math.max(0, i.finishedAt - lastPollAt) },
    total,
  ];
}

const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function jobSummary(i: JobSummaryInput): string {
  const passed = i.outcome.exitCode === 0;
  const [headline, ...rest] = i.outcome.lines;
  const verdict = i.record?.progress.verdict;
  const lines = [
    `## ${passed ? '✅' : '❌'} ${i.release} → ${i.envName}`,
    '',
    `**${headline}**`,
    '',
    `- Stack: \`${i.stackName}\``,
    `- Health gate: ${verdict === undefined ? 'did not run' : verdict === 'wait' ? 'unfinished' : verdict}`,
    ...rest.map((line) => `- ${line}`),
    '',
    '| Phase | Duration |',
    '|---|---|',
    ...deployPhases(i).map((p) => `| ${escapeCell(p.name)} | ${formatDuration(p.ms)} |`),
    '',
  ];
  return lines.join('\n');
}

/** A workflow command GitHub shows on the run's page; data escaped as GitHub requires. */
export function errorAnnotation(i: JobSummaryInput): string | undefined {
  if (i.outcome.exitCode === 0) return undefined;
  const escape = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  const title = escape(`${i.release} failed in ${i.envName}`).replace(/:/g, '%3A').replace(/,/g, '%2C');
  return `::error title=${title}::${escape(i.outcome.lines.join('\n'))}`;
}
