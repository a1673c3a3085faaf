// The scaling hold's handler against aws-sdk-client-mock: what it suspends on the outgoing group at
// the cutover, and that a rollback (Delete) resumes exactly that.
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  ResumeProcessesCommand,
  SuspendProcessesCommand,
} from '@aws-sdk/client-auto-scaling';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import { holdHandler, holdId, parseHoldId } from '../../lib/scaling-hold/handler';

const asg = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
let lines: string[] = [];
const onEvent = holdHandler({ clients: () => createClients('eu-west-1'), log: (l) => lines.push(l) });

const PROPS = { LiveReleaseParameter: '/greenlight/shop/production/live-release', StackName: 'shop-production', Release: 'r2' };
const base = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:hold',
  ResponseURL: 'https://example.invalid/signed?X-Amz-Signature=secret',
  StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/shop-production/1',
  RequestId: 'q1',
  LogicalResourceId: 'HoldR2',
  ResourceType: 'Custom::ScalingHold',
};
const create = (props: Record<string, string> = PROPS): CdkCustomResourceEvent => ({ ...base, RequestType: 'Create', ResourceProperties: { ServiceToken: base.ServiceToken, ...props } });
const remove = (physicalId: string): CdkCustomResourceEvent => ({
  ...base,
  RequestType: 'Delete',
  PhysicalResourceId: physicalId,
  ResourceProperties: { ServiceToken: base.ServiceToken, ...PROPS },
});

const group = (name: string, suspended: string[] = []) => ({
  AutoScalingGroupName: name,
  MinSize: 2,
  MaxSize: 12,
  DesiredCapacity: 5,
  DefaultCooldown: 300,
  AvailabilityZones: ['eu-west-1a'],
  HealthCheckType: 'ELB',
  CreatedTime: new Date(0),
  SuspendedProcesses: suspended.map((ProcessName) => ({ ProcessName, SuspensionReason: 'User suspended' })),
});

beforeEach(() => {
  asg.reset();
  ssm.reset();
  lines = [];
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'r1' } });
  asg.on(SuspendProcessesCommand).resolves({});
  asg.on(ResumeProcessesCommand).resolves({});
});

describe('scaling hold', () => {
  it("Create suspends the outgoing group's alarm-driven and scheduled scaling, found by its release and stack tags", async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('shop-production-FleetR1-abc', ['AZRebalance'])] });
    const out = await onEvent(create());
    expect(asg.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input.Filters).toEqual([
      { Name: 'tag:greenlight:release', Values: ['r1'] },
      { Name: 'tag:aws:cloudformation:stack-name', Values: ['shop-production'] },
    ]);
    expect(asg.commandCalls(SuspendProcessesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'shop-production-FleetR1-abc', ScalingProcesses: ['AlarmNotification', 'ScheduledActions'] },
    ]);
    expect(parseHoldId(out.PhysicalResourceId)).toEqual({ groups: [{ name: 'shop-production-FleetR1-abc', suspended: ['AlarmNotification', 'ScheduledActions'] }] });
    expect(out.Data).toEqual({ OutgoingRelease: 'r1' });
  });

  it('Create leaves a process someone else suspended out of its record, so Delete never resumes it', async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('g1', ['AlarmNotification'])] });
    const out = await onEvent(create());
    expect(asg.commandCalls(SuspendProcessesCommand)[0].args[0].input.ScalingProcesses).toEqual(['ScheduledActions']);
    await onEvent(remove(out.PhysicalResourceId ?? ''));
    expect(asg.commandCalls(ResumeProcessesCommand).map((c) => c.args[0].input)).toEqual([{ AutoScalingGroupName: 'g1', ScalingProcesses: ['ScheduledActions'] }]);
  });

  it('Create on the first deploy, with no live release, holds nothing', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    const out = await onEvent(create());
    expect(asg.calls()).toHaveLength(0);
    expect(parseHoldId(out.PhysicalResourceId)).toEqual({ groups: [] });
    await onEvent(remove(out.PhysicalResourceId ?? ''));
    expect(asg.calls()).toHaveLength(0);
  });

  it('Delete (a rollback) resumes exactly what Create suspended', async () => {
    await onEvent(remove(holdId({ groups: [{ name: 'g1', suspended: ['AlarmNotification', 'ScheduledActions'] }] })));
    expect(asg.commandCalls(ResumeProcessesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'g1', ScalingProcesses: ['AlarmNotification', 'ScheduledActions'] },
    ]);
  });

  it('Delete after the group is gone (the cleanup of the next release) succeeds', async () => {
    const gone = Object.assign(new Error('AutoScalingGroup name not found - no such group: g1'), { name: 'ValidationError' });
    asg.on(ResumeProcessesCommand).rejects(gone);
    const id = holdId({ groups: [{ name: 'g1', suspended: ['AlarmNotification'] }] });
    await expect(onEvent(remove(id))).resolves.toEqual({ PhysicalResourceId: id });
  });

  it('Delete fails on any other error, so CloudFormation reports it', async () => {
    asg.on(ResumeProcessesCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));
    await expect(onEvent(remove(holdId({ groups: [{ name: 'g1', suspended: ['AlarmNotification'] }] })))).rejects.toThrow('User is not authorized');
  });

  it('a Create that fails half-way resumes what it had suspended before failing', async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('g1'), group('g2')] });
    asg.on(SuspendProcessesCommand, { AutoScalingGroupName: 'g2' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(onEvent(create())).rejects.toThrow('Rate exceeded');
    expect(asg.commandCalls(ResumeProcessesCommand).map((c) => c.args[0].input.AutoScalingGroupName)).toEqual(['g1']);
  });

  it('Update touches nothing; an unknown physical id on Delete touches nothing', async () => {
    const update = { ...base, RequestType: 'Update', PhysicalResourceId: 'x', ResourceProperties: { ServiceToken: base.ServiceToken, ...PROPS }, OldResourceProperties: { ServiceToken: base.ServiceToken } } as CdkCustomResourceEvent;
    await expect(onEvent(update)).resolves.toEqual({ PhysicalResourceId: 'x' });
    await onEvent(remove('q1'));
    expect(asg.calls()).toHaveLength(0);
  });

  it("Create for a deploy that keeps a standby holds its alarm-driven scaling only, so its scale-to-zero still runs", async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('g1')] });
    const event = create();
    (event.ResourceProperties as Record<string, unknown>).Processes = ['AlarmNotification'];
    const out = await onEvent(event);
    expect(asg.commandCalls(SuspendProcessesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'g1', ScalingProcesses: ['AlarmNotification'] },
    ]);
    expect(parseHoldId(out.PhysicalResourceId)).toEqual({ groups: [{ name: 'g1', suspended: ['AlarmNotification'] }] });
  });

  it('refuses a process it does not hold', async () => {
    const event = create();
    (event.ResourceProperties as Record<string, unknown>).Processes = ['Launch'];
    await expect(onEvent(event)).rejects.toThrow('scaling hold property Processes: ["Launch"] must list some of AlarmNotification, ScheduledActions');
    expect(asg.commandCalls(SuspendProcessesCommand)).toHaveLength(0);
  });

  it('a missing property fails the Create, naming it', async () => {
    await expect(onEvent(create({ StackName: 'shop-production' }))).rejects.toThrow('scaling hold property LiveReleaseParameter: undefined must be a non-empty string');
  });

  it('never logs the pre-signed response URL', async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('g1')] });
    await onEvent(create());
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).not.toContain('X-Amz-Signature');
  });
});
