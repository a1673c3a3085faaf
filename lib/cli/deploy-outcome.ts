// What a finished deploy means, from cdk's exit code and the gate's last record. Pure.
import type { ProgressRecord } from '../health-gate/progress-record';

/** A gate run that started this long before the deploy did is an earlier deploy's, allowing for clock skew. */
export const CLOCK_SKEW_MS = 60_000;

export interface DeployResult {
  readonly release: string;
  readonly envName: string;
  readonly stackName: string;
  readonly cdkExitCode: number;
  /** The gate's progress record as read after cdk exited, if any. */
  readonly record?: ProgressRecord;
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
  const record = r.record && r.record.progress.startedAt >= r.startedAt - CLOCK_SKEW_MS ? r.record : undefined;
  const verdict = record?.progress.verdict;
  const message = record?.progress.lastMessage ?? '';
  const where = `${r.release} in ${r.envName} (${r.stackName})`;

  if (r.cdkExitCode === 0) {
    if (verdict === 'pass') return { exitCode: 0, lines: [`DEPLOYED: ${where}; the gate passed: ${message}`] };
    if (verdict === 'fail') {
      return { exitCode: 1, lines: [`FAILED: cdk deploy exited 0, yet the gate recorded a failure for ${where}`, `diagnosis: ${message}`] };
    }
    return {
      exitCode: 0,
      lines: [`DEPLOYED: ${where}; no health gate ran, so the stack already had this release and nothing was replaced`],
    };
  }

  const failed = `FAILED: ${where}; cdk deploy exited ${r.cdkExitCode}`;
  switch (verdict) {
    case 'fail':
      return {
        exitCode: 1,
        lines: [
          `${failed}: the release did not pass the health gate. The stack rolled back; the previous release still serves.`,
          `diagnosis: ${message}`,
        ],
      };
    case 'pass':
      return {
        exitCode: 1,
        lines: [
          `${failed} after the gate passed (${message}). CloudFormation rolled the stack back; its events above name the resource that failed.`,
        ],
      };
    case 'wait':
      return {
        exitCode: 1,
        lines: [
          `${failed} while the gate was still waiting (${message}). CloudFormation's events above name the resource that failed.`,
        ],
      };
    default:
      return {
        exitCode: 1,
        lines: [
          `${failed} before the health gate started; cdk's output above says why. ` +
            'Common causes: no AWS credentials, an account not bootstrapped with `cdk bootstrap`' +
            (r.amiParameterName ? `, or no AMI published for the release (${r.amiParameterName})` : '') +
            '.',
        ],
      };
  }
}
