// How long one deploy's `cdk deploy` can run, from the environment's settings, against the lifetime
// of the credentials it runs with. A CI job's OIDC session ends after an hour (GitHub's
// role-duration-seconds, CircleCI's token): a deploy that outlasts it loses sight of its stack and
// fails the job while CloudFormation carries on. Pure.
import type { EnvironmentSettings } from '../config/schema';
import { UserError } from '../errors';
import { gateServiceTimeout } from '../health-gate/time-limits';
import { bakeServiceTimeout, HANDLER_FUNCTION_TIMEOUT, oneShotServiceTimeout, SMOKE_FUNCTION_TIMEOUT, trafficServiceTimeout } from '../time-limits';

/**
 * CloudFormation's own work in a deploy, an estimate: publishing the assets, the target group, the
 * launch template and the group, the preview rule, the cutover, the live pointer, and a rollback's
 * deletes when one fails.
 */
export const STACK_WORK_SECONDS = 600;

export interface RunBound {
  readonly seconds: number;
  /** Each part, `gate 1035s`, in the order a deploy runs them. */
  readonly parts: readonly string[];
}

/**
 * The longest a deploy of these settings can run: every custom resource's ServiceTimeout (each fails
 * on its own before it), the old fleet's deregistration delay in the cleanup, and the stack's own work.
 */
export function releaseRunBound(settings: EnvironmentSettings): RunBound {
  const parts: Array<[string, number]> = [
    ['stack work', STACK_WORK_SECONDS],
    ['capacity probe', oneShotServiceTimeout(HANDLER_FUNCTION_TIMEOUT)],
    ['gate', gateServiceTimeout(settings.gate.timeout, settings.gate.pollInterval)],
  ];
  if (settings.smoke) parts.push(['smoke', oneShotServiceTimeout(SMOKE_FUNCTION_TIMEOUT)]);
  if (settings.scaling) parts.push(['scaling hold', oneShotServiceTimeout(HANDLER_FUNCTION_TIMEOUT)]);
  if (settings.traffic) {
    const t = settings.traffic;
    parts.push(['traffic steps', trafficServiceTimeout(t.steps.length, t.stepDuration, t.maxExtension)]);
  }
  if (settings.bake) parts.push(['bake', bakeServiceTimeout(settings.bake.duration)]);
  parts.push(['deregistration', settings.deregistrationDelay]);
  return { seconds: parts.reduce((sum, [, s]) => sum + s, 0), parts: parts.map(([name, s]) => `${name} ${s}s`) };
}

/** Refuses, in one line, settings whose deploy can outlast a session of `maxSession` seconds. */
export function checkSessionBound(envName: string, settings: EnvironmentSettings, maxSession: number): void {
  const bound = releaseRunBound(settings);
  if (bound.seconds <= maxSession) return;
  throw new UserError(
    `--max-session ${maxSession}: a deploy to ${envName} can run ${bound.seconds}s (${bound.parts.join(' + ')}), longer than ` +
      `the session's credentials last; shorten gate.timeout, traffic.stepDuration or bake.duration, or deploy with a longer session`,
  );
}
