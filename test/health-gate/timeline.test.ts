// The real handler and aws module through a scripted fleet, with a fake clock.
import { afterEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import { gateHandlers } from '../../lib/health-gate/handler';
import { parseRecord } from '../../lib/health-gate/progress-record';
import { gateProperties, RESPONSE_URL, runGate } from './provider-driver';
import { FakeClock, type FleetScript, SimulatedFleet } from './simulated-fleet';

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web/0123456789abcdef';
let fleet: SimulatedFleet | undefined;
afterEach(() => fleet?.restore());

function setup(script: FleetScript) {
  const clock = new FakeClock();
  fleet = new SimulatedFleet(script, clock);
  const lines: string[] = [];
  const handlers = gateHandlers({ clients: () => createClients('eu-west-1'), now: clock.now, log: (l) => lines.push(l) });
  return { clock, handlers, lines, fleet };
}

describe('gate timeline', () => {
  it('boots, turns healthy, survives a flap and a replacement, and passes at the expected poll', async () => {
    const { clock, handlers, lines, fleet } = setup({
      groupName: 'shop-staging-Fleet-r1',
      targetGroups: [TG],
      checkInterval: 15,
      oldFleet: ['i-old1', 'i-old2', 'i-old3'],
      instances: [
        // InService at 30 s, healthy after 2 checks: from 60 s.
        { id: 'i-1', launchAt: 0, bootSeconds: 30, healthyAfterChecks: 2 },
        // Healthy from 60 s, then fails its checks between 120 s and 135 s.
        { id: 'i-2', launchAt: 0, bootSeconds: 30, healthyAfterChecks: 2, flaps: [[120, 135]] },
        // Never healthy; Auto Scaling replaces it at 60 s with i-4 (InService 75 s, healthy 105 s).
        {
          id: 'i-3',
          launchAt: 0,
          bootSeconds: 30,
          healthyAfterChecks: Infinity,
          failure: { reason: 'Target.FailedHealthChecks', description: 'Health checks failed' },
          terminateAt: 60,
        },
        { id: 'i-4', launchAt: 60, bootSeconds: 15, healthyAfterChecks: 2 },
      ],
    });
    const result = await runGate(handlers, gateProperties({ ExpectedInstances: '3' }), clock, { queryInterval: 15, maxPolls: 80 });

    // Healthy polls at 105 s (1), broken at 120 s by the flap, then 135, 150, 165 s: the 12th poll.
    expect(result).toEqual({ outcome: 'pass', polls: 12, at: 165 });
    const stored = parseRecord(fleet.parameters.get('/greenlight/shop/staging/gate/2026.11.22-3f9c2ab'));
    expect(stored?.progress.verdict).toBe('pass');
    expect(stored?.progress.replacedInstances).toEqual(['i-3']);
    expect(stored?.progress.lastMessage).toBe('3/3 healthy in every target group for 3 consecutive polls after 2m45s');

    const polls = lines.map((l) => JSON.parse(l) as { verdict?: string; message?: string; poll?: number }).filter((l) => l.poll);
    expect(polls).toHaveLength(12);
    expect(polls[2].message).toBe('0/3 healthy; i-1: Elb.InitialHealthChecking; i-2: Elb.InitialHealthChecking; i-3: Elb.InitialHealthChecking');
    expect(polls[4].message).toBe('2/3 healthy; i-4: Pending; replaced 1/2 allowed');
    expect(polls[8].message).toBe('2/3 healthy; i-2: Target.Timeout (Request timed out); replaced 1/2 allowed');
    expect(lines.every((l) => !l.includes(RESPONSE_URL) && !l.includes('X-Amz-Signature'))).toBe(true);
    // The old fleet shares the target group but never enters the count.
    expect(lines.some((l) => l.includes('i-old'))).toBe(false);
  });

  it('fails a release that never turns healthy at the timeout, with every instance named and the hint', async () => {
    const redirect = { reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [301]' };
    const { clock, handlers, fleet } = setup({
      groupName: 'shop-staging-Fleet-r1',
      targetGroups: [TG],
      checkInterval: 15,
      instances: [
        { id: 'i-1', launchAt: 0, bootSeconds: 30, healthyAfterChecks: Infinity, failure: redirect },
        { id: 'i-2', launchAt: 0, bootSeconds: 30, healthyAfterChecks: Infinity, failure: redirect },
      ],
    });
    const result = await runGate(handlers, gateProperties({ TimeoutSeconds: '120' }), clock, { queryInterval: 15, maxPolls: 80 });

    expect(result).toEqual({
      outcome: 'fail',
      polls: 9,
      at: 120,
      error:
        'Gate timed out after 2m with 0/2 healthy. i-1: Target.ResponseCodeMismatch [301]; i-2: Target.ResponseCodeMismatch [301]. ' +
        'Hint for Target.ResponseCodeMismatch [301]: the health path answers with a redirect: end it with a trailing slash when ' +
        'the framework appends one (Django APPEND_SLASH), and keep the HTTPS redirect off the health path (checks arrive over ' +
        'plain HTTP without X-Forwarded-Proto).',
    });
    const stored = parseRecord(fleet.parameters.get('/greenlight/shop/staging/gate/2026.11.22-3f9c2ab'));
    expect(stored?.progress.verdict).toBe('fail');
    expect(stored?.progress.lastMessage).toBe(result.error);
  });

  it('costs the same API calls per poll for 2, 20 and 200 instances', async () => {
    const perPoll: number[] = [];
    for (const size of [2, 20, 200]) {
      const { clock, handlers, fleet } = setup({
        groupName: 'g',
        targetGroups: [TG],
        checkInterval: 15,
        instances: Array.from({ length: size }, (_, n) => ({ id: `i-${n}`, launchAt: 0, bootSeconds: 30, healthyAfterChecks: 2 })),
      });
      const result = await runGate(handlers, gateProperties({ ExpectedInstances: String(size) }), clock, { queryInterval: 15, maxPolls: 40 });
      expect(result.outcome).toBe('pass');
      perPoll.push(fleet.totalCalls() / result.polls);
      fleet.restore();
    }
    // GetParameter, DescribeAutoScalingGroups, DescribeTargetHealth, DescribeScalingActivities, PutParameter.
    expect(perPoll).toEqual([5, 5, 5]);
  });
});
