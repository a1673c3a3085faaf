// The handler against aws-sdk-client-mock: one test per AWS state the gate can observe.
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import { gateHandlers } from '../../lib/health-gate/handler';
import { parseRecord, type ProgressRecord } from '../../lib/health-gate/progress-record';
import { createEvent, gateProperties, isCompleteEvent, RESPONSE_URL } from './provider-driver';

const asg = mockClient(AutoScalingClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
const ssm = mockClient(SSMClient);

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web/0123456789abcdef';
const TG2 = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/api/fedcba9876543210';
const PARAM = '/greenlight/shop/staging/gate/2026.11.22-3f9c2ab';
const T0 = Date.UTC(2026, 10, 22, 12, 0, 0);

let now = T0;
let lines: string[] = [];
let stored: string | undefined;
const handlers = gateHandlers({ clients: () => createClients('eu-west-1'), now: () => now, log: (l) => lines.push(l) });

const instance = (id: string, lifecycle = 'InService', health = 'Healthy') => ({
  InstanceId: id,
  LifecycleState: lifecycle as 'InService',
  HealthStatus: health,
  AvailabilityZone: 'eu-west-1a',
  ProtectedFromScaleIn: false,
});
const group = (instances: ReturnType<typeof instance>[], targetGroups = [TG]) => ({
  AutoScalingGroupName: 'shop-staging-Fleet-r1',
  MinSize: 1,
  MaxSize: 4,
  DesiredCapacity: 2,
  DefaultCooldown: 300,
  AvailabilityZones: ['eu-west-1a'],
  HealthCheckType: 'ELB',
  CreatedTime: new Date(T0),
  TargetGroupARNs: targetGroups,
  Instances: instances,
});
const target = (id: string, State: string, Reason?: string, Description?: string) => ({
  Target: { Id: id, Port: 80 },
  TargetHealth: { State: State as 'healthy', Reason: Reason as 'Target.Timeout', Description },
});

function fleet(instances: ReturnType<typeof instance>[], health: ReturnType<typeof target>[], activities: object[] = []) {
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group(instances)] });
  elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: health });
  asg.on(DescribeScalingActivitiesCommand).resolves({ Activities: activities as never[] });
}

const event = createEvent(gateProperties());
const poll = () => handlers.isComplete(isCompleteEvent(event, PARAM));
const record = (): ProgressRecord | undefined => parseRecord(stored);

beforeEach(() => {
  asg.reset();
  elb.reset();
  ssm.reset();
  now = T0;
  lines = [];
  stored = undefined;
  ssm.on(GetParameterCommand).callsFake(() => {
    if (stored === undefined) throw new ParameterNotFound({ message: 'Parameter not found', $metadata: {} });
    return { Parameter: { Name: PARAM, Value: stored } };
  });
  ssm.on(PutParameterCommand).callsFake((input: { Value?: string }) => {
    stored = input.Value;
    return { Version: 1 };
  });
});
afterEach(() => {
  // One JSON line per call, and never the pre-signed response URL.
  for (const line of lines) {
    expect(() => JSON.parse(line)).not.toThrow();
    expect(line).not.toContain(RESPONSE_URL);
    expect(line).not.toContain('X-Amz-Signature');
  }
});

describe('onEvent', () => {
  it('Create checks the properties and names the gate after its progress parameter', async () => {
    await expect(handlers.onEvent(event)).resolves.toEqual({ PhysicalResourceId: PARAM, Data: { StartedAt: String(T0) } });
    expect(asg.calls()).toHaveLength(0);
  });

  it('Create with a bad property fails, naming the property and the value', async () => {
    await expect(handlers.onEvent(createEvent(gateProperties({ ExpectedInstances: 'two' })))).rejects.toThrow(
      'health gate property ExpectedInstances: "two" must be a whole number of at least 1',
    );
  });

  it.each(['Update', 'Delete'] as const)('%s is a no-op that keeps the physical id and calls nothing', async (type) => {
    const other = { ...event, RequestType: type, PhysicalResourceId: PARAM, OldResourceProperties: {} } as never;
    await expect(handlers.onEvent(other)).resolves.toEqual({ PhysicalResourceId: PARAM });
    await expect(handlers.isComplete(other)).resolves.toEqual({ IsComplete: true });
    expect(asg.calls()).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
  });
});

describe('isComplete, one AWS state each', () => {
  it('instances still Pending: waits and stores the first poll', async () => {
    fleet([instance('i-a', 'Pending'), instance('i-b', 'Pending')], []);
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(record()?.progress).toMatchObject({ polls: 1, startedAt: T0, verdict: 'wait', lastMessage: '0/2 healthy; i-a: Pending; i-b: Pending' });
    expect(record()?.observed).toEqual({ instances: 2, inService: 0, targetGroups: 1, activities: 0 });
    const put = ssm.commandCalls(PutParameterCommand)[0].args[0].input;
    expect(put).toMatchObject({ Name: PARAM, Type: 'String', Overwrite: true });
  });

  it('targets in initial health checking: waits', async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'initial', 'Elb.InitialHealthChecking'), target('i-b', 'initial', 'Elb.RegistrationInProgress')]);
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(record()?.progress.lastMessage).toBe('0/2 healthy; i-a: Elb.InitialHealthChecking; i-b: Elb.RegistrationInProgress');
  });

  it('all healthy for K polls: completes on the K-th poll with the verdict as data', async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'healthy'), target('i-b', 'healthy')]);
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    now += 15_000;
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    now += 15_000;
    await expect(poll()).resolves.toEqual({
      IsComplete: true,
      Data: { Verdict: 'pass', Message: '2/2 healthy in every target group for 3 consecutive polls after 30s' },
    });
    const log = lines.map((l) => JSON.parse(l));
    expect(log.map((l) => l.poll)).toEqual([1, 2, 3]);
    expect(log[2]).toMatchObject({ verdict: 'pass', release: '2026.11.22-3f9c2ab', group: 'shop-staging-Fleet-r1', elapsedSeconds: 30 });
  });

  it('a 301 on the health path: waits with the code in the progress line', async () => {
    fleet([instance('i-a'), instance('i-b')], [
      target('i-a', 'unhealthy', 'Target.ResponseCodeMismatch', 'Health checks failed with these codes: [301]'),
      target('i-b', 'healthy'),
    ]);
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(record()?.progress.lastMessage).toBe('1/2 healthy; i-a: Target.ResponseCodeMismatch [301]');
  });

  it('a launch that cannot succeed on retry: fails at once, quoting its status message', async () => {
    fleet([], [], [
      {
        ActivityId: 'a1',
        AutoScalingGroupName: 'shop-staging-Fleet-r1',
        Cause: 'user request',
        StartTime: new Date(T0),
        StatusCode: 'Failed',
        StatusMessage: "The image id '[ami-0123456789abcdef0]' does not exist. Launching EC2 instance failed.",
        Description: 'Launching a new EC2 instance.  Status Reason: failed',
      },
    ]);
    await expect(poll()).rejects.toThrow(
      "Scaling activity failed (the AMI cannot be launched): Launching a new EC2 instance.  Status Reason: failed: The image id '[ami-0123456789abcdef0]' does not exist. Launching EC2 instance failed.",
    );
    expect(record()?.progress.verdict).toBe('fail');
  });

  it('DescribeAutoScalingGroups paginates: the group on a later page is found', async () => {
    const inputs: object[] = [];
    const pages = [
      { AutoScalingGroups: [], NextToken: 'page-2' },
      { AutoScalingGroups: [group([instance('i-a'), instance('i-b')])] },
    ];
    asg.on(DescribeAutoScalingGroupsCommand).callsFake((input: object) => {
      inputs.push({ ...input });
      return pages[inputs.length - 1];
    });
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [target('i-a', 'healthy'), target('i-b', 'healthy')] });
    asg.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
    await poll();
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toMatchObject({ AutoScalingGroupNames: ['shop-staging-Fleet-r1'] });
    expect(inputs[0]).not.toHaveProperty('NextToken', 'page-2');
    expect(inputs[1]).toMatchObject({ AutoScalingGroupNames: ['shop-staging-Fleet-r1'], NextToken: 'page-2' });
    expect(record()?.progress.lastMessage).toBe('2/2 healthy (1/3 consecutive polls)');
  });

  it('DescribeTargetHealth has no pagination: one call returns every target, and the old fleet is ignored', async () => {
    const ids = Array.from({ length: 200 }, (_, n) => `i-new${n}`);
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group(ids.map((id) => instance(id)))] });
    elb.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        ...Array.from({ length: 200 }, (_, n) => target(`i-old${n}`, 'draining', 'Target.DeregistrationInProgress')),
        ...ids.map((id) => target(id, 'healthy')),
      ],
    });
    asg.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(1);
    expect(record()?.progress.lastMessage).toBe('200/2 healthy (1/3 consecutive polls)');
  });

  it('two target groups: one call each, and healthy in only one is not healthy', async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group([instance('i-a'), instance('i-b')], [TG, TG2])] });
    elb.on(DescribeTargetHealthCommand, { TargetGroupArn: TG }).resolves({ TargetHealthDescriptions: [target('i-a', 'healthy'), target('i-b', 'healthy')] });
    elb.on(DescribeTargetHealthCommand, { TargetGroupArn: TG2 }).resolves({
      TargetHealthDescriptions: [target('i-a', 'healthy'), target('i-b', 'unhealthy', 'Target.Timeout', 'Request timed out')],
    });
    asg.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
    await poll();
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(2);
    expect(record()?.progress.lastMessage).toBe('1/2 healthy; i-b: api: Target.Timeout (Request timed out)');
  });

  it('an instance replaced by Auto Scaling: counted, and a crash loop beyond the limit fails', async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'unhealthy', 'Target.FailedHealthChecks', 'Health checks failed'), target('i-b', 'healthy')]);
    await poll();
    now += 15_000;
    fleet([instance('i-c', 'Pending'), instance('i-b')], [target('i-b', 'healthy')], [
      { ActivityId: 'a2', AutoScalingGroupName: 'g', Cause: 'ELB health check', StartTime: new Date(now), StatusCode: 'Successful', Description: 'Terminating EC2 instance: i-a' },
    ]);
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(record()?.progress.replacedInstances).toEqual(['i-a']);
    now += 15_000;
    fleet([instance('i-d', 'Pending'), instance('i-e', 'Pending')], [], [
      { ActivityId: 'a3', AutoScalingGroupName: 'g', Cause: 'ELB health check', StartTime: new Date(now), StatusCode: 'Successful', Description: 'Terminating EC2 instance: i-c' },
    ]);
    await expect(poll()).rejects.toThrow(/^3 instances replaced, more than maxReplacedInstances 2: a crash loop\. i-a: Target\.FailedHealthChecks \(Health checks failed\); i-b: no health reason recorded; i-c: Pending\. Hint for Target\.FailedHealthChecks: the app did not start/);
  });

  it("a policy raised the group's desired capacity: the gate reads it and waits for the new instance", async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'healthy'), target('i-b', 'healthy')]);
    await poll();
    expect(record()?.progress.consecutiveHealthy).toBe(1);
    asg.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{ ...group([instance('i-a'), instance('i-b'), instance('i-c', 'Pending')]), DesiredCapacity: 3 }],
    });
    now += 15_000;
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(record()?.progress).toMatchObject({ consecutiveHealthy: 0, peakDesired: 3 });
    expect(record()?.progress.lastMessage).toBe('2/3 healthy; i-c: Pending; desired capacity raised to 3 (deployed at 2)');
  });

  it('throttled by Auto Scaling: waits, never fails, and keeps the count', async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'healthy'), target('i-b', 'healthy')]);
    await poll();
    now += 15_000;
    asg.on(DescribeAutoScalingGroupsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(record()?.progress).toMatchObject({
      polls: 2,
      transientPolls: 1,
      consecutiveHealthy: 1,
      lastMessage: 'AWS API error on 1 poll so far, retrying: Throttling: Rate exceeded',
    });
    expect(record()?.observed.transientError).toBe('Throttling: Rate exceeded');
  });

  it('a 503 from the load balancer API: waits', async () => {
    fleet([instance('i-a')], []);
    elb.on(DescribeTargetHealthCommand).rejects(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(record()?.progress.lastMessage).toBe('AWS API error on 1 poll so far, retrying: ServiceUnavailable: Service Unavailable');
  });

  it('access denied: a permanent error fails the gate with the SDK message', async () => {
    asg.on(DescribeAutoScalingGroupsCommand).rejects(Object.assign(new Error('User is not authorized to perform: autoscaling:DescribeAutoScalingGroups'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await expect(poll()).rejects.toThrow('User is not authorized to perform: autoscaling:DescribeAutoScalingGroups');
  });

  it('the group does not exist: waits once, then fails naming it', async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(record()?.progress.lastMessage).toBe('Auto Scaling group shop-staging-Fleet-r1 not found (1 of 2 polls before the gate fails)');
    now += 15_000;
    await expect(poll()).rejects.toThrow(
      'Auto Scaling group shop-staging-Fleet-r1 not found on 2 consecutive polls: it was deleted, or the gate names the wrong group',
    );
    expect(asg.commandCalls(DescribeScalingActivitiesCommand)).toHaveLength(0);
  });

  it('SSM throttles the progress read: waits without describing the fleet', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(asg.calls()).toHaveLength(0);
  });

  it('SSM throttles the progress write: the verdict still stands', async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'healthy'), target('i-b', 'healthy')]);
    const oneShot = gateHandlers({
      clients: () => createClients('eu-west-1'),
      now: () => now,
      log: (l) => lines.push(l),
    });
    ssm.on(PutParameterCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    const k1 = createEvent(gateProperties({ ConsecutiveHealthyPolls: '1' }));
    await expect(oneShot.isComplete(isCompleteEvent(k1, PARAM))).resolves.toMatchObject({ IsComplete: true });
    expect(lines.some((l) => JSON.parse(l).warning === 'progress not saved: ThrottlingException: Rate exceeded')).toBe(true);
  });

  it('a retried invocation at the same moment counts nothing and describes nothing new in the count', async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'healthy'), target('i-b', 'healthy')]);
    await poll();
    await poll();
    expect(record()?.progress).toMatchObject({ polls: 1, consecutiveHealthy: 1 });
  });

  it('a record left by an earlier deploy of the same release is not resumed', async () => {
    stored = JSON.stringify({
      runId: 'an-earlier-request',
      release: '2026.11.22-3f9c2ab',
      groupName: 'old',
      expectedInstances: 2,
      timeoutMs: 900_000,
      observed: { instances: 0, inService: 0, targetGroups: 1, activities: 0 },
      progress: { startedAt: T0 - 3_600_000, lastPollAt: T0 - 3_000_000, polls: 40, consecutiveHealthy: 0, seenInstances: [], replacedInstances: [], lastReasons: {}, lastMessage: 'timed out', verdict: 'fail' },
    });
    fleet([instance('i-a', 'Pending')], []);
    await expect(poll()).resolves.toEqual({ IsComplete: false });
    expect(record()).toMatchObject({ runId: 'req-1', progress: { polls: 1, startedAt: T0, verdict: 'wait' } });
  });

  it('a finished gate answers from its record without describing the fleet again', async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'healthy'), target('i-b', 'healthy')]);
    const k1 = isCompleteEvent(createEvent(gateProperties({ ConsecutiveHealthyPolls: '1' })), PARAM);
    await expect(handlers.isComplete(k1)).resolves.toMatchObject({ IsComplete: true });
    asg.reset();
    now += 15_000;
    await expect(handlers.isComplete(k1)).resolves.toMatchObject({ IsComplete: true });
    expect(asg.calls()).toHaveLength(0);
  });

  it('a long failure is cut for CloudFormation and points at the full text in SSM', async () => {
    const ids = Array.from({ length: 100 }, (_, n) => `i-${String(n).padStart(17, '0')}`);
    fleet(ids.map((id) => instance(id)), ids.map((id) => target(id, 'unhealthy', 'Target.Timeout', 'Request timed out')));
    const short = isCompleteEvent(createEvent(gateProperties({ ExpectedInstances: '100', TimeoutSeconds: '60' })), PARAM);
    await handlers.isComplete(short);
    now += 60_000;
    const err = await handlers.isComplete(short).then(() => undefined, (e: Error) => e);
    expect(err?.message.length).toBeLessThan(2600);
    expect(err?.message).toMatch(/^Gate timed out after 1m with 0\/100 healthy\. i-0+: Target\.Timeout \(Request timed out\);/);
    expect(err?.message).toMatch(/… \(the full diagnosis is in SSM parameter \/greenlight\/shop\/staging\/gate\/2026\.11\.22-3f9c2ab\)$/);
    expect(stored!.length).toBeLessThanOrEqual(8192);
  });
});

describe('isComplete when the progress cannot be saved', () => {
  const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
  /** The event as the Provider framework passes it on: the original merged with onEvent's answer. */
  const started = async (properties = gateProperties()) => {
    const create = createEvent(properties);
    return { ...isCompleteEvent(create, PARAM), ...(await handlers.onEvent(create)) } as ReturnType<typeof isCompleteEvent>;
  };

  it('keeps polling through a few lost writes, then fails naming the parameter and the error', async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'healthy'), target('i-b', 'healthy')]);
    ssm.on(PutParameterCommand).rejects(throttled());
    const request = await started();
    now += 1_000;
    await expect(handlers.isComplete(request)).resolves.toEqual({ IsComplete: false });
    now += 15_000;
    await expect(handlers.isComplete(request)).resolves.toEqual({ IsComplete: false });
    now += 15_000;
    await expect(handlers.isComplete(request)).resolves.toEqual({ IsComplete: false });
    now += 15_000;
    await expect(handlers.isComplete(request)).rejects.toThrow(
      `Could not save the gate's progress to SSM parameter ${PARAM} for 3 polls in a row (last error: ThrottlingException: Rate exceeded); ` +
        'without it the gate cannot count consecutive healthy polls.',
    );
  });

  it('counts lost writes from the last saved poll, not from the start', async () => {
    fleet([instance('i-a', 'Pending'), instance('i-b', 'Pending')], []);
    const request = await started();
    for (let i = 0; i < 10; i++) {
      await expect(handlers.isComplete(request)).resolves.toEqual({ IsComplete: false });
      now += 15_000;
    }
    ssm.on(PutParameterCommand).rejects(throttled());
    await expect(handlers.isComplete(request)).resolves.toEqual({ IsComplete: false });
    now += 15_000;
    await expect(handlers.isComplete(request)).resolves.toEqual({ IsComplete: false });
    expect(record()?.progress.polls).toBe(10);
  });

  it('a gate whose progress is never saved still times out from its real start', async () => {
    fleet([instance('i-a'), instance('i-b')], [target('i-a', 'unhealthy', 'Target.Timeout', 'Request timed out'), target('i-b', 'healthy')]);
    ssm.on(PutParameterCommand).rejects(throttled());
    const request = await started(gateProperties({ TimeoutSeconds: '60', PollIntervalSeconds: '30' }));
    now += 60_000;
    await expect(handlers.isComplete(request)).rejects.toThrow(/^Gate timed out after 1m with 1\/2 healthy\. i-a: Target\.Timeout \(Request timed out\)\./);
  });

  it('a write refused for good fails at once, naming the parameter', async () => {
    fleet([instance('i-a')], []);
    ssm.on(PutParameterCommand).rejects(
      Object.assign(new Error('not authorized to perform: ssm:PutParameter'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }),
    );
    await expect(handlers.isComplete(await started())).rejects.toThrow(
      `Could not save the gate's progress to SSM parameter ${PARAM}: AccessDeniedException: not authorized to perform: ssm:PutParameter`,
    );
  });
});
