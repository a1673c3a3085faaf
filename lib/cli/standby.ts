// What the CLI decides about the standby: which release a deploy keeps, how a rollback returns to
// it, and how long that should take. Pure.
import type { EnvironmentSettings } from '../config/schema';
import { scheduleTime } from '../config/standby';

/** The environment's release other than the live one, as its group stands now. */
export interface StandbyFleet {
  readonly release: string;
  readonly groupName: string;
  readonly min: number;
  readonly desired: number;
  readonly inService: number;
  /** When its scheduled scale-to-zero runs (or ran); undefined when it has none. */
  readonly scalesToZeroAt?: Date;
  /** The name of that scheduled action. */
  readonly scaleToZeroAction?: string;
}

/**
 * The release a deploy keeps as its standby: the live one when another release goes live; the
 * current standby when the live release is deployed again; none on the first deploy.
 */
export function chooseStandby(release: string, live: string | undefined, standingBy: string | undefined): string | undefined {
  if (live === undefined) return undefined;
  if (live !== release) return live;
  return standingBy !== undefined && standingBy !== release ? standingBy : undefined;
}

/** The id that makes a rollback's gate a resource of its own: the time, to the second. */
export const rollbackIdAt = (at: Date): string => scheduleTime(at).replace(/[-:]/g, '');

export type RollbackWay =
  /** The standby serves at full size: a gate on it, then the listener moves. */
  | { readonly kind: 'switch'; readonly line: string }
  /** The standby is smaller than it must be, or at zero: scale it up, then gate and switch. */
  | { readonly kind: 'scale-up'; readonly desired: number; readonly min: number; readonly line: string }
  /** No standby: a new fleet of the previous release. */
  | { readonly kind: 'redeploy'; readonly line: string };

/** CloudFormation's update around the gate, and the listener's one API call. */
const STACK_UPDATE_SECONDS = 10;

const secondsText = (s: number): string => (s < 120 ? `${s}s` : `${Math.round(s / 60)} min`);

/**
 * How a rollback returns to `target`, and the time it should take, from the environment's gate
 * (K polls × interval), the bake, and the health check's time to mark a new instance healthy.
 */
export function chooseRollbackWay(
  settings: EnvironmentSettings,
  target: string,
  standby: StandbyFleet | undefined,
  liveDesired: number,
  now: Date,
): RollbackWay {
  // The Provider polls at once and then every interval, so K healthy polls span K − 1 intervals; the
  // stack update around the gate and the listener's one ModifyListener call take about 10 s more.
  const gate = (settings.gate.consecutiveHealthyPolls - 1) * settings.gate.pollInterval;
  const bake = settings.bake ? ` + bake ${settings.bake.duration}s` : '';
  const switchSeconds = gate + STACK_UPDATE_SECONDS;
  const hc = settings.healthCheck;
  const boot = settings.healthCheckGracePeriod + hc.healthyThreshold * hc.interval;
  if (!standby || standby.release !== target) {
    return {
      kind: 'redeploy',
      line:
        `no standby of ${target} is running, so this is a redeploy: a new fleet boots and passes the gate; ` +
        `expect about ${secondsText(boot + switchSeconds)}${bake} (instance boot up to ${settings.healthCheckGracePeriod}s, gate ${gate}s)`,
    };
  }
  const desired = Math.min(settings.capacity.max, Math.max(settings.capacity.desired, liveDesired));
  const expired = standby.scalesToZeroAt !== undefined && standby.scalesToZeroAt.getTime() <= now.getTime();
  if (standby.desired === 0 || expired || standby.inService < Math.min(desired, standby.desired)) {
    const why = expired ? `its window ended at ${scheduleTime(standby.scalesToZeroAt as Date)}` : `it has ${standby.inService} instances in service`;
    return {
      kind: 'scale-up',
      desired,
      min: settings.capacity.min,
      line:
        `${target} stands by but ${why}: scaling ${standby.groupName} to ${desired} first, then its gate and the switch; ` +
        `expect about ${secondsText(boot + switchSeconds)}${bake} (instance boot up to ${settings.healthCheckGracePeriod}s, gate ${gate}s)`,
    };
  }
  return {
    kind: 'switch',
    line:
      `${target} stands by with ${standby.inService} instances in service: a gate on it, then the listener moves back; ` +
      `expect about ${switchSeconds}s${bake} (gate: ${settings.gate.consecutiveHealthyPolls} polls ${settings.gate.pollInterval}s apart; ` +
      `about ${STACK_UPDATE_SECONDS}s for the stack update and the listener), nothing relaunched`,
  };
}
