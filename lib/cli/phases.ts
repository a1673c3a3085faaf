// Where a release stands in each phase of a deploy (gate, smoke, traffic, cutover, bake), from the records
// the handlers keep in SSM and whether the serving listener forwards to the release. Pure.
import type { BakeRecord } from '../bake/record';
import type { ProgressRecord } from '../health-gate/progress-record';
import type { SmokeRecord } from '../smoke/record';
import type { TrafficRecord } from '../traffic/record';
import { stepWeights } from '../traffic/steps';

export const PHASES = ['gate', 'smoke', 'traffic', 'cutover', 'bake'] as const;
export type Phase = (typeof PHASES)[number];

export interface ReleaseRecords {
  readonly gate?: ProgressRecord;
  readonly smoke?: SmokeRecord;
  readonly traffic?: TrafficRecord;
  readonly bake?: BakeRecord;
}

/** `bake: 7.4% 5xx …` → `7.4% 5xx …`: the phase is named once, by whoever shows the message. */
export const withoutPhase = (phase: Phase, message: string): string => message.replace(new RegExp(`^${phase}:?\\s+`), '');

/**
 * `weights live 90 / new 10 (1 of 2): step 1 (10%) 45s/480s: 5xx 0% vs live 0.1% …`: where the steps
 * stand, with the running figures, for status and watch.
 */
export function trafficState(record: TrafficRecord): string {
  const p = record.progress;
  const w = stepWeights(p.weight);
  const message = withoutPhase('traffic', p.lastMessage);
  return p.verdict === 'wait' ? `weights live ${w.live} / new ${w.release} (${p.step + 1} of ${record.steps.length}): ${message}` : `${p.verdict}: ${message}`;
}

/** One short state per phase; the traffic steps' and the bake's carry their live figures. */
export function phaseStates(records: ReleaseRecords, serving: boolean): Record<Phase, string> {
  const { gate, smoke, traffic, bake } = records;
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
  else if (traffic?.progress.verdict === 'fail') cutover = 'not started';
  else if (traffic || smoke?.verdict === 'pass') cutover = 'pending';
  else cutover = 'not started';
  return { gate: gateState, smoke: smokeState, traffic: traffic ? trafficState(traffic) : 'not started', cutover, bake: bakeState };
}

/** The first phase that failed and its message, if any. */
export function failedPhase(records: ReleaseRecords): { phase: Phase; message: string } | undefined {
  if (records.gate?.progress.verdict === 'fail') return { phase: 'gate', message: records.gate.progress.lastMessage };
  if (records.smoke?.verdict === 'fail') return { phase: 'smoke', message: withoutPhase('smoke', records.smoke.message) };
  if (records.traffic?.progress.verdict === 'fail') return { phase: 'traffic', message: withoutPhase('traffic', records.traffic.progress.lastMessage) };
  if (records.bake?.progress.verdict === 'fail') return { phase: 'bake', message: withoutPhase('bake', records.bake.progress.lastMessage) };
  return undefined;
}
