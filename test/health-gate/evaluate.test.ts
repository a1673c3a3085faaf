import { describe, expect, it } from 'vitest';
import { evaluate, formatDuration, hintForReason, targetReason } from '../../lib/health-gate/evaluate';
import type { GateDecision, GatePolicy, GateProgress, Observation } from '../../lib/health-gate/types';
import {
  allHealthy,
  failedActivity,
  healthy,
  inService,
  observe,
  pending,
  policy,
  TG,
  TG2,
  unhealthy,
} from './fixtures';

interface Case {
  readonly name: string;
  readonly policy?: Partial<GatePolicy>;
  readonly polls: readonly Observation[];
  /** The verdict after each poll. */
  readonly verdicts: ReadonlyArray<GateDecision['verdict']>;
  /** The last decision's message: exact string or pattern. */
  readonly message: string | RegExp;
  readonly consecutiveHealthy?: number;
  readonly replaced?: readonly string[];
}

const redirect301 = (at: number) =>
  observe(at, {
    instances: [inService('i-a'), inService('i-b')],
    targetHealth: [
      unhealthy('i-a', 'Target.ResponseCodeMismatch', 'Health checks failed with these codes: [301]'),
      unhealthy('i-b', 'Target.ResponseCodeMismatch', 'Health checks failed with these codes: [301]'),
    ],
  });

const oneFlapping = (at: number) =>
  observe(at, {
    instances: [inService('i-a'), inService('i-b')],
    targetHealth: [healthy('i-a'), unhealthy('i-b', 'Target.Timeout', 'Request timed out')],
  });

const cases: Case[] = [
  {
    name: 'refuses a group attached to no target group, however healthy its instances',
    polls: [observe(0, { instances: [inService('i-a'), inService('i-b')], targetGroups: [] })],
    verdicts: ['fail'],
    message:
      'The group is attached to no target group, so the load balancer checks none of its instances; the gate passes only instances healthy in a target group',
  },
  {
    name: 'passes after K consecutive healthy polls',
    polls: [allHealthy(0), allHealthy(15), allHealthy(30)],
    verdicts: ['wait', 'wait', 'pass'],
    message: '2/2 healthy in every target group for 3 consecutive polls after 30s',
    consecutiveHealthy: 3,
  },
  {
    name: 'K = 1 passes on the first healthy poll',
    policy: { consecutiveHealthyPolls: 1 },
    polls: [allHealthy(0)],
    verdicts: ['pass'],
    message: '2/2 healthy in every target group for 1 consecutive polls after 0s',
  },
  {
    name: 'a healthy poll reports the streak while waiting',
    polls: [allHealthy(0)],
    verdicts: ['wait'],
    message: '2/2 healthy (1/3 consecutive polls)',
    consecutiveHealthy: 1,
  },
  {
    name: 'instances still booting',
    polls: [observe(0, { instances: [pending('i-a'), pending('i-b')] })],
    verdicts: ['wait'],
    message: '0/2 healthy; i-a: Pending; i-b: Pending',
  },
  {
    name: 'no instance launched yet',
    polls: [observe(0)],
    verdicts: ['wait'],
    message: '0/2 healthy; 2 not launched yet',
  },
  {
    name: 'initial health checks in progress',
    polls: [
      observe(0, {
        instances: [inService('i-a')],
        targetHealth: [{ targetGroup: TG, instanceId: 'i-a', state: 'initial', reasonCode: 'Elb.InitialHealthChecking' }],
      }),
    ],
    verdicts: ['wait'],
    message: '0/2 healthy; i-a: Elb.InitialHealthChecking; 1 not launched yet',
  },
  {
    name: 'a 301 loop waits with the code in the progress line',
    polls: [redirect301(0), redirect301(15), redirect301(30)],
    verdicts: ['wait', 'wait', 'wait'],
    message: '0/2 healthy; i-a: Target.ResponseCodeMismatch [301]; i-b: Target.ResponseCodeMismatch [301]',
  },
  {
    name: 'a 301 loop fails at the timeout with the trailing-slash hint',
    policy: { timeoutMs: 60_000 },
    polls: [redirect301(0), redirect301(30), redirect301(60)],
    verdicts: ['wait', 'wait', 'fail'],
    message:
      /^Gate timed out after 1m with 0\/2 healthy\. i-a: Target\.ResponseCodeMismatch \[301\]; i-b: Target\.ResponseCodeMismatch \[301\]\. Hint for Target\.ResponseCodeMismatch \[301\]: the health path answers with a redirect: .*APPEND_SLASH.*HTTPS redirect/,
  },
  {
    name: 'a flapping instance breaks the consecutive count',
    polls: [allHealthy(0), allHealthy(15), oneFlapping(30), allHealthy(45), allHealthy(60)],
    verdicts: ['wait', 'wait', 'wait', 'wait', 'wait'],
    message: '2/2 healthy (2/3 consecutive polls)',
    consecutiveHealthy: 2,
  },
  {
    name: 'a flapping instance passes once it stays healthy for K polls',
    polls: [allHealthy(0), oneFlapping(15), allHealthy(30), allHealthy(45), allHealthy(60)],
    verdicts: ['wait', 'wait', 'wait', 'wait', 'pass'],
    message: '2/2 healthy in every target group for 3 consecutive polls after 1m',
  },
  {
    name: 'fewer instances than expected never count as healthy',
    polls: [allHealthy(0, ['i-a']), allHealthy(15, ['i-a']), allHealthy(30, ['i-a'])],
    verdicts: ['wait', 'wait', 'wait'],
    message: '1/2 healthy; 1 not launched yet',
    consecutiveHealthy: 0,
  },
  {
    name: 'more instances than expected, all healthy, pass',
    policy: { consecutiveHealthyPolls: 1 },
    polls: [allHealthy(0, ['i-a', 'i-b', 'i-c'])],
    verdicts: ['pass'],
    message: '3/2 healthy in every target group for 1 consecutive polls after 0s',
  },
  {
    name: 'an extra instance still pending does not block the expected ones',
    policy: { consecutiveHealthyPolls: 1 },
    polls: [observe(0, { instances: [inService('i-a'), inService('i-b'), pending('i-c')], targetHealth: [healthy('i-a'), healthy('i-b')] })],
    verdicts: ['pass'],
    message: /^2\/2 healthy in every target group/,
  },
  {
    name: 'an instance in two target groups healthy in only one',
    polls: [
      observe(0, {
        targetGroups: [TG, TG2],
        instances: [inService('i-a'), inService('i-b')],
        targetHealth: [
          healthy('i-a', TG),
          healthy('i-a', TG2),
          healthy('i-b', TG),
          unhealthy('i-b', 'Target.ResponseCodeMismatch', 'Health checks failed with these codes: [400]', TG2),
        ],
      }),
    ],
    verdicts: ['wait'],
    message: '1/2 healthy; i-b: api: Target.ResponseCodeMismatch [400]',
  },
  {
    name: 'an instance missing from a second target group is not registered there',
    polls: [
      observe(0, {
        targetGroups: [TG, TG2],
        instances: [inService('i-a'), inService('i-b')],
        targetHealth: [healthy('i-a', TG), healthy('i-a', TG2), healthy('i-b', TG)],
      }),
    ],
    verdicts: ['wait'],
    message: '1/2 healthy; i-b: api: Target.NotRegistered',
  },
  {
    name: 'Auto Scaling unhealthy despite a healthy target',
    polls: [observe(0, { instances: [inService('i-a'), inService('i-b', 'Unhealthy')], targetHealth: [healthy('i-a'), healthy('i-b')] })],
    verdicts: ['wait'],
    message: '1/2 healthy; i-b: AutoScaling.Unhealthy',
  },
  {
    name: 'a launch that cannot succeed on retry (an AMI that does not exist) fails at once, quoting its status message',
    polls: [observe(0, { activities: [failedActivity("The image id '[ami-0123]' does not exist. Launching EC2 instance failed.")] })],
    verdicts: ['fail'],
    message:
      "Scaling activity failed (the AMI cannot be launched): Launching a new EC2 instance. Status Reason: failed: The image id '[ami-0123]' does not exist. Launching EC2 instance failed.",
  },
  ...(
    [
      ['an instance profile that does not exist', "Value (shop-role) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name. Launching EC2 instance failed.", 'an IAM or instance-profile error'],
      ['an AMI of another architecture', "The architecture 'arm64' of the specified instance type does not match the architecture 'x86_64' of the specified AMI. Launching EC2 instance failed.", 'the instance type cannot run this launch template'],
      ['an instance type the account cannot launch', 'The requested configuration is currently not supported. Please check the documentation for supported configurations. Launching EC2 instance failed.', 'the instance type cannot run this launch template'],
      ['no capacity in any zone', 'We currently do not have sufficient m6i.large capacity in any of the Availability Zones in your request. Launching EC2 instance failed.', 'no capacity in any of the zones'],
    ] as const
  ).map(([what, statusMessage, why]): Case => ({
    name: `${what} fails at once`,
    polls: [observe(0, { activities: [failedActivity(statusMessage)] })],
    verdicts: ['fail'],
    message: `Scaling activity failed (${why}): Launching a new EC2 instance. Status Reason: failed: ${statusMessage}`,
  })),
  {
    name: 'a failed launch Auto Scaling retries (capacity in one zone) counts toward maxReplacedInstances and waits',
    polls: [
      observe(0, {
        instances: [pending('i-a')],
        activities: [
          failedActivity(
            'We currently do not have sufficient t3.small capacity in the Availability Zone you requested (eu-west-1a). Our system will be ' +
              'working on provisioning additional capacity. You can currently get t3.small capacity by not specifying an Availability Zone ' +
              'in your request or choosing eu-west-1b. Launching EC2 instance failed.',
          ),
        ],
      }),
    ],
    verdicts: ['wait'],
    message: /^0\/2 healthy; i-a: Pending; 1 not launched yet; replaced 1\/2 allowed \(1 failed launch, the last: We currently do not have sufficient t3\.small capacity in the Availability Zone you requested/,
  },
  {
    name: 'retried launches that keep failing exhaust maxReplacedInstances, quoting the last status message',
    policy: { maxReplacedInstances: 1 },
    polls: [
      observe(0, { activities: [{ ...failedActivity('Your requested instance type (c5.large) is not supported in your requested Availability Zone (eu-west-1c).'), activityId: 'f1' }] }),
      observe(15, {
        activities: [
          { ...failedActivity('Your requested instance type (c5.large) is not supported in your requested Availability Zone (eu-west-1c). Try eu-west-1a.'), activityId: 'f2' },
          { ...failedActivity('Your requested instance type (c5.large) is not supported in your requested Availability Zone (eu-west-1c).'), activityId: 'f1' },
        ],
      }),
    ],
    verdicts: ['wait', 'fail'],
    message:
      '0 instances replaced and 2 launches failed, more than maxReplacedInstances 1. The last failed launch: Launching a new EC2 instance. ' +
      'Status Reason: failed: Your requested instance type (c5.large) is not supported in your requested Availability Zone (eu-west-1c). Try eu-west-1a..',
  },
  {
    name: 'successful and in-progress activities are no failure',
    polls: [
      observe(0, {
        instances: [pending('i-a')],
        activities: [
          { activityId: 'a1', statusCode: 'Successful', description: 'Launching a new EC2 instance: i-a' },
          { activityId: 'a2', statusCode: 'InProgress', description: 'Launching a new EC2 instance: i-b' },
        ],
      }),
    ],
    verdicts: ['wait'],
    message: '0/2 healthy; i-a: Pending; 1 not launched yet',
  },
  {
    name: 'replacements within the limit wait and are counted',
    polls: [
      observe(0, { instances: [inService('i-a'), inService('i-b')], targetHealth: [healthy('i-a'), unhealthy('i-b', 'Target.Timeout', 'Request timed out')] }),
      observe(15, { instances: [inService('i-a'), pending('i-c')], targetHealth: [healthy('i-a')] }),
    ],
    verdicts: ['wait', 'wait'],
    message: '1/2 healthy; i-c: Pending; replaced 1/2 allowed',
    replaced: ['i-b'],
  },
  {
    name: 'more replacements than maxReplacedInstances is a crash loop',
    policy: { maxReplacedInstances: 1 },
    polls: [
      observe(0, { instances: [inService('i-a'), inService('i-b')], targetHealth: [unhealthy('i-a', 'Target.FailedHealthChecks', 'Health checks failed'), unhealthy('i-b', 'Target.FailedHealthChecks', 'Health checks failed')] }),
      observe(15, { instances: [pending('i-c'), pending('i-d')] }),
    ],
    verdicts: ['wait', 'fail'],
    message: /^2 instances replaced, more than maxReplacedInstances 1: a crash loop\. i-a: Target\.FailedHealthChecks \(Health checks failed\); i-b: Target\.FailedHealthChecks \(Health checks failed\)\. Hint for Target\.FailedHealthChecks: the app did not start/,
  },
  {
    name: 'a termination activity counts as a replacement',
    policy: { maxReplacedInstances: 0 },
    polls: [
      observe(0, {
        instances: [inService('i-a')],
        targetHealth: [healthy('i-a')],
        activities: [{ activityId: 'a9', statusCode: 'Successful', description: 'Terminating EC2 instance: i-0dead' }],
      }),
    ],
    verdicts: ['fail'],
    message: /^1 instances replaced, more than maxReplacedInstances 0: a crash loop\. i-0dead: no health reason recorded\.$/,
  },
  {
    name: 'an instance terminating in the group counts as replaced',
    polls: [observe(0, { instances: [inService('i-a'), { instanceId: 'i-b', lifecycleState: 'Terminating', healthStatus: 'Unhealthy' }], targetHealth: [healthy('i-a')] })],
    verdicts: ['wait'],
    message: '1/2 healthy; i-b: Terminating; replaced 1/2 allowed',
    replaced: ['i-b'],
  },
  {
    name: 'throttling waits and keeps the streak',
    polls: [allHealthy(0), allHealthy(15), observe(30, { transientError: 'ThrottlingException: Rate exceeded' }), allHealthy(45)],
    verdicts: ['wait', 'wait', 'wait', 'pass'],
    message: '2/2 healthy in every target group for 3 consecutive polls after 45s',
  },
  {
    name: 'throttling alone never fails before the timeout',
    polls: [0, 15, 30, 45].map((at) => observe(at, { transientError: 'ThrottlingException: Rate exceeded' })),
    verdicts: ['wait', 'wait', 'wait', 'wait'],
    message: 'AWS API error on 4 polls so far, retrying: ThrottlingException: Rate exceeded',
  },
  {
    name: 'a group not found once waits; twice in a row fails, naming it',
    polls: [allHealthy(0), observe(15, { groupNotFound: 'shop-staging-Fleet-r1' }), observe(30, { groupNotFound: 'shop-staging-Fleet-r1' })],
    verdicts: ['wait', 'wait', 'fail'],
    message: 'Auto Scaling group shop-staging-Fleet-r1 not found on 2 consecutive polls: it was deleted, or the gate names the wrong group',
  },
  {
    name: 'a group found again resets the not-found count',
    polls: [observe(0, { groupNotFound: 'g' }), allHealthy(15), observe(30, { groupNotFound: 'g' }), allHealthy(45)],
    verdicts: ['wait', 'wait', 'wait', 'wait'],
    message: '2/2 healthy (2/3 consecutive polls)',
  },
  {
    name: 'throttled at the timeout fails with the last reasons seen',
    policy: { timeoutMs: 30_000 },
    polls: [oneFlapping(0), observe(30, { transientError: 'ThrottlingException: Rate exceeded' })],
    verdicts: ['wait', 'fail'],
    message: /^Gate timed out after 30s; the last poll failed with ThrottlingException: Rate exceeded\. Last seen: i-b: Target\.Timeout \(Request timed out\)\. Hint for Target\.Timeout: a dependency without a connect timeout/,
  },
  {
    name: 'a timeout with instances that never launched',
    policy: { timeoutMs: 60_000 },
    polls: [observe(0), observe(60)],
    verdicts: ['wait', 'fail'],
    message: "Gate timed out after 1m with 0/2 healthy. 2 of 2 instances never launched; check the group's scaling activities.",
  },
  {
    name: 'a timeout in the middle of a healthy streak names what each instance last failed with',
    policy: { timeoutMs: 45_000, consecutiveHealthyPolls: 4 },
    polls: [oneFlapping(0), allHealthy(15), allHealthy(30), allHealthy(45)],
    verdicts: ['wait', 'wait', 'wait', 'fail'],
    message:
      'Gate timed out after 45s with 2/2 healthy for 3 of 4 consecutive polls. i-b: healthy now, last Target.Timeout (Request timed out). ' +
      "Hint for Target.Timeout: a dependency without a connect timeout: keep the app's database connect timeout < health-check timeout < interval.",
  },
  {
    name: 'a 400 points at ALLOWED_HOSTS at the timeout',
    policy: { timeoutMs: 15_000, expectedInstances: 1 },
    polls: [0, 15].map((at) => observe(at, { instances: [inService('i-a')], targetHealth: [unhealthy('i-a', 'Target.ResponseCodeMismatch', 'Health checks failed with these codes: [400]')] })),
    verdicts: ['wait', 'fail'],
    message: /i-a: Target\.ResponseCodeMismatch \[400\]\. Hint for Target\.ResponseCodeMismatch \[400\]: the Host header of a health check is the instance's private IP: add it to ALLOWED_HOSTS/,
  },
  {
    name: 'a retried invocation within half an interval counts nothing',
    polls: [allHealthy(0), allHealthy(3), allHealthy(15)],
    verdicts: ['wait', 'wait', 'wait'],
    message: '2/2 healthy (2/3 consecutive polls)',
    consecutiveHealthy: 2,
  },
  {
    name: 'a verdict is final: later observations do not turn it around',
    policy: { consecutiveHealthyPolls: 1 },
    polls: [allHealthy(0), redirect301(15)],
    verdicts: ['pass', 'pass'],
    message: '2/2 healthy in every target group for 1 consecutive polls after 0s',
  },
  {
    name: 'many unhealthy instances are summarised in the progress line',
    policy: { expectedInstances: 7 },
    polls: [observe(0, { instances: ['1', '2', '3', '4', '5', '6', '7'].map((n) => pending(`i-${n}`)) })],
    verdicts: ['wait'],
    message: '0/7 healthy; i-1: Pending; i-2: Pending; i-3: Pending; i-4: Pending; i-5: Pending; +2 more',
  },
];

describe('evaluate', () => {
  it.each(cases)('$name', (c) => {
    let progress: GateProgress | undefined;
    const verdicts: string[] = [];
    let last: GateDecision | undefined;
    for (const poll of c.polls) {
      last = evaluate(poll, policy(c.policy), progress);
      progress = last.progress;
      verdicts.push(last.verdict);
    }
    expect(verdicts).toEqual(c.verdicts);
    if (typeof c.message === 'string') expect(last?.message).toBe(c.message);
    else expect(last?.message).toMatch(c.message);
    expect(last?.progress.lastMessage).toBe(last?.message);
    expect(last?.progress.verdict).toBe(last?.verdict);
    if (c.consecutiveHealthy !== undefined) expect(last?.progress.consecutiveHealthy).toBe(c.consecutiveHealthy);
    if (c.replaced) expect(last?.progress.replacedInstances).toEqual(c.replaced);
  });

  it('has at least 20 table cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it('rejects a policy value out of range, naming the field and the value', () => {
    expect(() => evaluate(observe(0), policy({ expectedInstances: 0 }), undefined)).toThrow(
      'gate policy expectedInstances: 0 must be a whole number of at least 1',
    );
    expect(() => evaluate(observe(0), policy({ consecutiveHealthyPolls: 1.5 }), undefined)).toThrow(
      'gate policy consecutiveHealthyPolls: 1.5',
    );
  });

  it('records the start time on the first poll and keeps it', () => {
    const first = evaluate(observe(100), policy(), undefined);
    const second = evaluate(observe(115), policy(), first.progress);
    expect(first.progress.startedAt).toBe(100_000);
    expect(second.progress.startedAt).toBe(100_000);
    expect(second.progress.polls).toBe(2);
    expect(second.progress.lastPollAt).toBe(115_000);
  });

  it('does not mutate the progress it is given', () => {
    const first = evaluate(allHealthy(0), policy(), undefined);
    const frozen = JSON.stringify(first.progress);
    evaluate(redirect301(15), policy(), first.progress);
    expect(JSON.stringify(first.progress)).toBe(frozen);
  });
});

describe('reason helpers', () => {
  it('formats target reasons with the quoted codes', () => {
    expect(targetReason({ state: 'unhealthy', reasonCode: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [301, 302]' })).toBe(
      'Target.ResponseCodeMismatch [301,302]',
    );
    expect(targetReason({ state: 'unhealthy', description: 'Connection refused' })).toBe('unhealthy (Connection refused)');
    expect(targetReason({ state: 'draining', reasonCode: 'Target.DeregistrationInProgress' })).toBe('Target.DeregistrationInProgress');
  });

  it('finds the hint behind a target-group prefix', () => {
    expect(hintForReason('api: Target.Timeout')).toMatch(/connect timeout/);
    expect(hintForReason('Pending')).toBeUndefined();
  });

  it('formats durations', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(95_000)).toBe('1m35s');
    expect(formatDuration(900_000)).toBe('15m');
  });
});
