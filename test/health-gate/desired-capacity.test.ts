import { describe, expect, it } from 'vitest';
import { attributeDepartures, desiredCapacityView } from '../../lib/health-gate/desired-capacity';
import { evaluate } from '../../lib/health-gate/evaluate';
import type { GateDecision, GatePolicy, GateProgress, InstanceObservation, Observation } from '../../lib/health-gate/types';
import { healthy, inService, observe, pending, policy } from './fixtures';

const terminating = (instanceId: string): InstanceObservation => ({ instanceId, lifecycleState: 'Terminating', healthStatus: 'Healthy' });

/** Every named instance InService and healthy, with the group's desired capacity. */
const fleet = (at: number, desired: number, ids: readonly string[], extra: Partial<Observation> = {}): Observation =>
  observe(at, {
    desiredCapacity: desired,
    instances: [...ids.map((id) => inService(id)), ...(extra.instances ?? [])],
    targetHealth: ids.map((id) => healthy(id)),
    activities: extra.activities ?? [],
  });

interface Case {
  readonly name: string;
  readonly policy?: Partial<GatePolicy>;
  readonly polls: readonly Observation[];
  readonly verdicts: ReadonlyArray<GateDecision['verdict']>;
  readonly message: string;
  readonly replaced?: readonly string[];
  readonly scaledIn?: readonly string[];
}

// The probe sized the fleet at 2 (policy().expectedInstances); the group's desired capacity moves.
const cases: Case[] = [
  {
    name: 'desired capacity rises mid-gate: the streak restarts and the gate waits for the new instance',
    polls: [
      fleet(0, 2, ['i-a', 'i-b']),
      fleet(15, 2, ['i-a', 'i-b']),
      fleet(30, 3, ['i-a', 'i-b']),
      fleet(45, 3, ['i-a', 'i-b'], { instances: [pending('i-c')] }),
      fleet(60, 3, ['i-a', 'i-b', 'i-c']),
      fleet(75, 3, ['i-a', 'i-b', 'i-c']),
      fleet(90, 3, ['i-a', 'i-b', 'i-c']),
    ],
    verdicts: ['wait', 'wait', 'wait', 'wait', 'wait', 'wait', 'pass'],
    message: '3/3 healthy in every target group for 3 consecutive polls after 1m30s',
  },
  {
    name: 'a raised desired capacity shows in the progress line while the instance launches',
    polls: [fleet(0, 2, ['i-a', 'i-b']), fleet(15, 4, ['i-a', 'i-b'], { instances: [pending('i-c')] })],
    verdicts: ['wait', 'wait'],
    message: '2/4 healthy; i-c: Pending; 1 not launched yet; desired capacity raised to 4 (deployed at 2)',
  },
  {
    name: 'a new instance InService but not yet healthy in the target group holds the streak',
    polls: [fleet(0, 3, ['i-a', 'i-b'], { instances: [inService('i-c')] })],
    verdicts: ['wait'],
    message: '2/3 healthy; i-c: Target.NotRegistered; desired capacity raised to 3 (deployed at 2)',
  },
  {
    name: 'desired capacity falls mid-gate: the removed instance is no replacement and the gate passes',
    policy: { maxReplacedInstances: 0 },
    polls: [
      fleet(0, 3, ['i-a', 'i-b', 'i-c']),
      fleet(15, 2, ['i-a', 'i-b'], {
        instances: [terminating('i-c')],
        activities: [{ activityId: 's1', statusCode: 'InProgress', description: 'Terminating EC2 instance: i-c' }],
      }),
      fleet(30, 2, ['i-a', 'i-b']),
    ],
    verdicts: ['wait', 'wait', 'pass'],
    message: '2/2 healthy in every target group for 3 consecutive polls after 30s',
    replaced: [],
    scaledIn: ['i-c'],
  },
  {
    name: 'a fall to the floor after a rise expects the floor again',
    polls: [fleet(0, 4, ['i-a', 'i-b', 'i-c', 'i-d']), fleet(15, 2, ['i-a', 'i-b'])],
    verdicts: ['wait', 'wait'],
    message: '2/2 healthy (2/3 consecutive polls)',
    replaced: [],
    scaledIn: ['i-c', 'i-d'],
  },
  {
    name: 'a fall below the floor never lowers what the gate waits for, and is no replacement',
    policy: { maxReplacedInstances: 0 },
    polls: [fleet(0, 2, ['i-a', 'i-b']), fleet(15, 1, ['i-a'], { instances: [terminating('i-b')] })],
    verdicts: ['wait', 'wait'],
    message: '1/2 healthy; i-b: Terminating; desired capacity lowered to 1; the gate still waits for the 2 the deploy started with',
    replaced: [],
    scaledIn: ['i-b'],
  },
  {
    name: 'a departure while desired capacity holds is still a replacement',
    polls: [fleet(0, 2, ['i-a', 'i-b']), fleet(15, 2, ['i-a'], { instances: [pending('i-c')] })],
    verdicts: ['wait', 'wait'],
    message: '1/2 healthy; i-c: Pending; replaced 1/2 allowed',
    replaced: ['i-b'],
    scaledIn: [],
  },
  {
    name: 'a scale-in explains only as many departures as desired capacity fell',
    policy: { maxReplacedInstances: 0 },
    polls: [fleet(0, 3, ['i-a', 'i-b', 'i-c']), fleet(15, 2, ['i-a'], { instances: [pending('i-d')] })],
    verdicts: ['wait', 'fail'],
    message: '1 instances replaced, more than maxReplacedInstances 0: a crash loop. i-c: no health reason recorded.',
    replaced: ['i-c'],
    scaledIn: ['i-b'],
  },
];

describe('evaluate with a changing desired capacity', () => {
  it.each(cases)('$name', (c) => {
    let progress: GateProgress | undefined;
    const verdicts: Array<GateDecision['verdict']> = [];
    let last: GateDecision | undefined;
    for (const o of c.polls) {
      last = evaluate(o, policy(c.policy), progress);
      progress = last.progress;
      verdicts.push(last.verdict);
    }
    expect(verdicts).toEqual(c.verdicts);
    expect(last?.message).toBe(c.message);
    if (c.replaced) expect(progress?.replacedInstances).toEqual(c.replaced);
    if (c.scaledIn) expect(progress?.scaledInInstances).toEqual(c.scaledIn);
  });

  it('without a reported desired capacity expects the probe\'s size, as before', () => {
    const decision = evaluate(observe(0, { instances: [inService('i-a'), inService('i-b')], targetHealth: [healthy('i-a'), healthy('i-b')] }), policy(), undefined);
    expect(decision.message).toBe('2/2 healthy (1/3 consecutive polls)');
    expect(decision.progress.peakDesired).toBe(0);
  });

  it('reads a progress record from a gate that knew nothing of desired capacity', () => {
    const first = evaluate(fleet(0, 2, ['i-a', 'i-b']), policy(), undefined);
    const { scaledInInstances: _s, peakDesired: _p, ...older } = first.progress;
    const next = evaluate(fleet(15, 3, ['i-a', 'i-b']), policy(), older);
    expect(next.message).toBe('2/3 healthy; 1 not launched yet; desired capacity raised to 3 (deployed at 2)');
  });
});

describe('desiredCapacityView', () => {
  it('takes the larger of the floor and the desired capacity, and remembers the peak', () => {
    expect(desiredCapacityView(2, { desiredCapacity: 5 }, {})).toEqual({ expected: 5, peakDesired: 5, scaleInAllowance: 0 });
    expect(desiredCapacityView(2, { desiredCapacity: 3 }, { peakDesired: 5 })).toEqual({ expected: 3, peakDesired: 5, scaleInAllowance: 2 });
    expect(desiredCapacityView(2, { desiredCapacity: 1 }, { peakDesired: 2 })).toEqual({ expected: 2, peakDesired: 2, scaleInAllowance: 1 });
    expect(desiredCapacityView(2, {}, { peakDesired: 4 })).toEqual({ expected: 2, peakDesired: 4, scaleInAllowance: 0 });
  });
});

describe('attributeDepartures', () => {
  it('keeps earlier attributions and spends the allowance on new departures only', () => {
    expect(attributeDepartures(new Set(['i-a', 'i-b', 'i-c']), ['i-a'], ['i-b'], 2)).toEqual({ replaced: ['i-a'], scaledIn: ['i-b', 'i-c'] });
    expect(attributeDepartures(new Set(['i-c', 'i-d']), [], ['i-b'], 2)).toEqual({ replaced: ['i-d'], scaledIn: ['i-b', 'i-c'] });
  });
});
