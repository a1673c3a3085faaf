// The `cdk deploy` a greenlight deploy runs, and the check that a pre-synthesized assembly is the
// release being deployed. Pure.
import { UserError } from '../errors';

export interface DeployPlan {
  readonly stackName: string;
  readonly envName: string;
  readonly release: string;
  /** A cloud assembly from an earlier `cdk synth`; otherwise cdk synthesizes with the context below. */
  readonly appDir?: string;
  /** Deploy this AMI instead of the one published for the release. */
  readonly ami?: string;
  /** The outgoing release to keep warm, and the deploy's start, from which its window counts. */
  readonly standby?: { readonly release: string; readonly deployTime: string };
  /** Set when switching back to a standby: makes the gate a resource of its own. */
  readonly rollbackId?: string;
}

/** Arguments after `cdk`. */
export function cdkDeployArgs(plan: DeployPlan): string[] {
  const source = plan.appDir
    ? ['--app', plan.appDir]
    : [
        '-c',
        `env=${plan.envName}`,
        '-c',
        `release=${plan.release}`,
        ...(plan.ami ? ['-c', `ami=${plan.ami}`] : []),
        ...(plan.standby ? ['-c', `standby=${plan.standby.release}`, '-c', `deployTime=${plan.standby.deployTime}`] : []),
        ...(plan.rollbackId ? ['-c', `rollback=${plan.rollbackId}`] : []),
      ];
  return ['deploy', plan.stackName, ...source, '--require-approval', 'never', '--progress', 'events'];
}

const SHELL_SAFE = /^[A-Za-z0-9_./:=@%+-]+$/;
const quote = (arg: string): string => (SHELL_SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);

/** The command a person can paste into a shell. */
export const cdkDeployCommandLine = (plan: DeployPlan): string => ['npx', 'cdk', ...cdkDeployArgs(plan)].map(quote).join(' ');

interface Template {
  readonly Resources?: Record<string, { readonly Type?: string; readonly Properties?: Record<string, unknown> }>;
}

/**
 * The release a synthesized stack deploys: the value its live-release parameter will take. A
 * mismatch means the assembly was built for another release, and deploying it would not deploy
 * what the job thinks it does.
 */
export function checkAssemblyRelease(template: Template, liveParameterName: string, expected: string, appDir: string): void {
  const pointer = Object.values(template.Resources ?? {}).find(
    (r) => r.Type === 'AWS::SSM::Parameter' && r.Properties?.Name === liveParameterName,
  );
  const found = pointer?.Properties?.Value;
  if (typeof found !== 'string') {
    throw new UserError(`--app-dir ${appDir}: the stack has no ${liveParameterName} parameter; is this a greenlight assembly?`);
  }
  if (found !== expected) {
    throw new UserError(
      `--app-dir ${appDir}: synthesized for release ${found}, not --release ${expected}; synth again with -c release=${expected}`,
    );
  }
}
