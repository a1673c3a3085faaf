// How many instances a new release starts with. Pure: the capacity probe supplies the live value.

export interface CapacityRange {
  readonly min: number;
  readonly desired: number;
  readonly max: number;
}

/**
 * clamp(max(configured desired, live desired), min, max): a fleet scaled out under load is not
 * shrunk by a deploy, and the configured range still bounds it. No live fleet (the first deploy,
 * or a live release whose group is gone) means the configured desired.
 */
export function sizeFleet(range: CapacityRange, liveDesired: number | undefined): number {
  const wanted = Math.max(range.desired, liveDesired ?? 0);
  return Math.min(range.max, Math.max(range.min, wanted));
}
