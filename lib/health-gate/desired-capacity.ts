// How the gate follows the group's desired capacity while it polls. Pure.
//
// A scaling policy or a scheduled action may change the new group's desired capacity mid-gate.
// The gate then expects the larger of the deploy's size (the capacity probe's answer, its floor)
// and the group's current desired capacity: a raise makes it wait for the new instances, and it
// never passes on fewer than the probe asked for. Instances a scale-in removes are not
// replacements, so a scale-in never counts toward the crash-loop limit.
import type { GateProgress, Observation } from './types';

export interface DesiredCapacityView {
  /** Instances the gate waits for on this poll. */
  readonly expected: number;
  /** The highest desired capacity seen so far. */
  readonly peakDesired: number;
  /** How many departures so far a scale-in explains: the peak minus the current desired capacity. */
  readonly scaleInAllowance: number;
}

/** What the gate expects on this poll, given the probe's floor and the group's desired capacity. */
export function desiredCapacityView(floor: number, observation: Pick<Observation, 'desiredCapacity'>, progress: Pick<GateProgress, 'peakDesired'>): DesiredCapacityView {
  const desired = observation.desiredCapacity;
  const peakDesired = Math.max(progress.peakDesired ?? 0, desired ?? 0);
  return {
    expected: Math.max(floor, desired ?? 0),
    peakDesired,
    scaleInAllowance: desired === undefined ? 0 : Math.max(0, peakDesired - desired),
  };
}

/**
 * Splits this poll's departures into replacements and scale-ins. Up to `allowance` departures
 * (over the whole gate) are put down to scale-ins, oldest knowledge first: an instance already
 * counted as replaced stays replaced. Returns the new lists; the inputs are not changed.
 */
export function attributeDepartures(
  departed: ReadonlySet<string>,
  alreadyReplaced: readonly string[],
  alreadyScaledIn: readonly string[],
  allowance: number,
): { readonly replaced: string[]; readonly scaledIn: string[] } {
  const scaledIn = new Set(alreadyScaledIn);
  const replaced = new Set(alreadyReplaced);
  for (const id of departed) {
    if (scaledIn.has(id) || replaced.has(id)) continue;
    if (scaledIn.size < allowance) scaledIn.add(id);
    else replaced.add(id);
  }
  return { replaced: [...replaced], scaledIn: [...scaledIn] };
}

/** `; desired 4 (raised from 2)` for the progress line, or nothing when the group asks for the floor. */
export function desiredNote(floor: number, desired: number | undefined): string | undefined {
  if (desired === undefined || desired === floor) return undefined;
  return desired > floor
    ? `desired capacity raised to ${desired} (deployed at ${floor})`
    : `desired capacity lowered to ${desired}; the gate still waits for the ${floor} the deploy started with`;
}
