// Where a release stands in each phase of a deploy (gate, smoke, cutover, bake), from the records
// the handlers keep in SSM and whether the serving listener forwards to the release. Pure.
import type { BakeRecord } from '../bake/record';
import type { ProgressRecord } from '../health-gate/progress-record';
import type { SmokeRecord } from '../smoke/record';

export const PHASES = ['gate', 'smoke', 'cutover', 'bake'] as const;
export type Phase = (typeof PHASES)[number];

export interface ReleaseRecords {
  readonly gate?: ProgressRecord;
  readonly smoke?: SmokeRecord;
  readonly bake?: BakeRecord;
}

/** `bake: 7.4% 5xx …` → `7.4% 5xx …`: the phase is named once, by whoever shows the message. */
export const withoutPhase = (phase: Phase, message: string): string => message.replace(new RegExp(`^${phase}:?\\s+`), '');

/** One short state per phase; the bake's carries its live figures. */
export function phaseStates(records: ReleaseRecords, serving: boolean): Record<Phase, string> {
  const { gate, smoke, bake } = records;
  const gateState = gate ? (gate.progress.verdict === 'wait' ? `waiting: ${gate.progress.lastMessage}` : gate.progress.verdict) : 'not started';
  const smokeState = smoke ? (smoke.verdict === 'pass' ? 'pass' : `fail: ${withoutPhase('smoke', smoke.message)}`) : 'not started';
  const bakeState = bake
    ? bake.progress.verdict === 'wait'
      ? withoutPhase('bake', bake.progress.lastMessage)
      : `${bake.progress.verdict}: ${withoutPhase('bake', bake.progress.lastMessage)}`
    : 'not started';
  let cutover: string;
  if (serving) cutover = 'serving';
  else if (bake?.progress.verdict === 'fail') cutover = 'rolled back';
  else if (bake) cutover = 'replaced';
  else if (smoke?.verdict === 'pass') cutover = 'pending';
  else cutover = 'not started';
  return { gate: gateState, smoke: smokeState, cutover, bake: bakeState };
}

/** The first phase that failed and its message, if any. */
export function failedPhase(records: ReleaseRecords): { phase: Phase; message: string } | undefined {
  if (records.gate?.progress.verdict === 'fail') return { phase: 'gate', message: records.gate.progress.lastMessage };
  if (records.smoke?.verdict === 'fail') return { phase: 'smoke', message: withoutPhase('smoke', records.smoke.message) };
  if (records.bake?.progress.verdict === 'fail') return { phase: 'bake', message: withoutPhase('bake', records.bake.progress.lastMessage) };
  return undefined;
}
