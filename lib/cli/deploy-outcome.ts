// What a finished deploy means, from cdk's exit code and the gate's, smoke checks', traffic steps' and bake's
// last records. A failed deploy ends with one line naming the phase that failed. Pure.
import type { BakeRecord } from '../bake/record';
import type { ProgressRecord } from '../health-gate/progress-record';
import type { SmokeRecord } from '../smoke/record';
import type { TrafficRecord } from '../traffic/record';
import { failedPhase } from './phases';

/** A gate run that started this long before the deploy did is an earlier deploy's, allowing for clock skew. */
export const CLOCK_SKEW_MS = 60_000;

export interface DeployResult {
  readonly release: string;
  readonly envName: string;
  readonly stackName: string;
  readonly cdkExitCode: number;
  /** The gate's progress record as read after cdk exited, if any. */
  readonly record?: ProgressRecord;
  /** The smoke checks' result and the bake's progress as read after cdk exited, if any. */
  readonly smoke?: SmokeRecord;
  /** The traffic steps' progress, if the environment has them. */
  readonly traffic?: TrafficRecord;
  readonly bake?: BakeRecord;
  /** When the deploy started, in epoch milliseconds. */
  readonly startedAt: number;
  /** The AMI parameter the stack resolves, for the hint when nothing got as far as the gate. */
  readonly amiParameterName?: string;
}

export interface DeployOutcome {
  readonly exitCode: 0 | 1;
  readonly lines: readonly string[];
}

export function deployOutcome(r: DeployResult): DeployOutcome {
  // Records an earlier deploy of the same release left behind say nothing about this one.
  const fresh = (at: number | undefined) => at !== undefined && at >= r.startedAt - CLOCK_SKEW_MS;
  const record = fresh(r.record?.progress.startedAt) ? r.record : undefined;
  const smoke = fresh(r.smoke?.at) ? r.smoke : undefined;
  const traffic = fresh(r.traffic?.progress.startedAt) ? r.traffic : undefined;
  const bake = fresh(r.bake?.progress.startedAt) ? r.bake : undefined;
  const verdict = record?.progress.verdict;
  const message = record?.progress.lastMessage ?? '';
  const where = `${r.release} in ${r.envName} (${r.stackName})`;
  const failure = failedPhase({ gate: record, smoke, traffic, bake });
  const verdictLine = failure && `deploy failed in ${failure.phase}: ${failure.message}`;

  if (r.cdkExitCode === 0) {
    if (failure) {
      return { exitCode: 1, lines: [`FAILED: cdk deploy exited 0, yet the ${failure.phase} recorded a failure for ${where}`, verdictLine as string] };
    }
    if (verdict === 'pass') {
      const baked = bake?.progress.verdict === 'pass' ? `; ${bake.progress.lastMessage}` : '';
      return { exitCode: 0, lines: [`DEPLOYED: ${where}; the gate passed: ${message}${baked}`] };
    }
    return {
      exitCode: 0,
      lines: [`DEPLOYED: ${where}; no health gate ran, so the stack already had this release and nothing was replaced`],
    };
  }

  const head = `FAILED: ${where}; cdk deploy exited ${r.cdkExitCode}`;
  switch (failure?.phase) {
    case 'gate':
      return {
        exitCode: 1,
        lines: [`${head}: the release did not pass the health gate. The stack rolled back; the previous release still serves.`, verdictLine as string],
      };
    case 'smoke':
      return {
        exitCode: 1,
        lines: [
          `${head}: the release failed its smoke checks on the preview listener, so the serving listener never moved to it. The stack rolled back; the previous release still serves.`,
          verdictLine as string,
        ],
      };
    case 'traffic':
      return {
        exitCode: 1,
        lines: [
          `${head}: the release was refused during the traffic steps, judged against the live release. Every request went back to the live release, and the stack rolled back.`,
          verdictLine as string,
        ],
      };
    case 'bake':
      return {
        exitCode: 1,
        lines: [
          `${head}: the release failed its bake after the cutover. CloudFormation's rollback pointed the serving listener back at the previous release.`,
          verdictLine as string,
        ],
      };
  }
  switch (verdict) {
    case 'pass':
      return {
        exitCode: 1,
        lines: [
          `${head} after the gate passed (${message}). CloudFormation rolled the stack back; its events above name the resource that failed.`,
        ],
      };
    case 'wait':
      return {
        exitCode: 1,
        lines: [
          `${head} while the gate was still waiting (${message}). CloudFormation's events above name the resource that failed.`,
        ],
      };
    default:
      return {
        exitCode: 1,
        lines: [
          `${head} before the health gate started; cdk's output above says why. ` +
            'Common causes: no AWS credentials, an account not bootstrapped with `cdk bootstrap`' +
            (r.amiParameterName ? `, or no AMI published for the release (${r.amiParameterName})` : '') +
            '.',
        ],
      };
  }
}
