// The deploy's preflight with EC2, ELB, Auto Scaling and SSM mocked: a made-up AMI, a live group
// larger than capacity.max, a listener changed by hand, full subnets and full limits each become
// one line, and greenlight deploy refuses before cdk runs.
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand, DescribeInstancesCommand, DescribeInstanceTypesCommand, DescribeSubnetsCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import {
  DescribeAccountLimitsCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetServiceQuotaCommand, NoSuchResourceException, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import { type DeployRuntime, prepareDeploy, runDeploy } from '../../lib/cli/deploy';
import { runPreflight } from '../../lib/cli/preflight';
import { isStandardFamily, type PreflightFacts, preflightProblems } from '../../lib/cli/preflight-checks';
import { cdkContext, REPO_ROOT } from '../helpers/settings';

const APP = cdkContext().app;
const STACK = `${APP}-staging`;
const ssm = mockClient(SSMClient);
const ec2 = mockClient(EC2Client);
const elb = mockClient(ElasticLoadBalancingV2Client);
const asg = mockClient(AutoScalingClient);
const quotas = mockClient(ServiceQuotasClient);
const AMI = 'ami-0123456789abcdef0';
const LB = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/shop/50dc6c495c0c9188';
const LIVE_TG = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/r1-web/73e2d6bc24d8a067';
const OTHER_TG = 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/by-hand/0000000000000000';
const SERVING = `${LB.replace(':loadbalancer/', ':listener/')}/1111111111111111`;
const PREVIEW = `${LB.replace(':loadbalancer/', ':listener/')}/2222222222222222`;

const prepared = () => prepareDeploy({ env: 'staging', release: 'r2' }, REPO_ROOT);
const quotasClient = () => new ServiceQuotasClient({ region: 'eu-west-1' });
const preflight = () => runPreflight(createClients('eu-west-1'), new EC2Client({ region: 'eu-west-1' }), quotasClient(), prepared().env, prepared().plan);
const instance = (type: string, cores: number, spot = false): Instance => ({
  InstanceType: type as Instance['InstanceType'],
  CpuOptions: { CoreCount: cores, ThreadsPerCore: 2 },
  ...(spot ? { InstanceLifecycle: 'spot' as const } : {}),
});
/** The live fleet (2 × t3.small, 2 vCPUs each) and, on a second page, what else the account runs. */
const running = (...others: Instance[]) => {
  ec2.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [{ Instances: [instance('t3.small', 1), instance('t3.small', 1)] }], NextToken: 'p2' }).resolves({ Reservations: [{ Instances: others }] });
};

/** A healthy environment: r1 live at 2 instances, its target group served, room everywhere. */
beforeEach(() => {
  for (const m of [ssm, ec2, elb, asg, quotas]) m.reset();
  running();
  ec2.on(DescribeInstanceTypesCommand, { InstanceTypes: ['t3.small'] }).resolves({ InstanceTypes: [{ InstanceType: 't3.small', VCpuInfo: { DefaultVCpus: 2 } }] });
  quotas.on(GetServiceQuotaCommand, { ServiceCode: 'ec2', QuotaCode: 'L-1216C47A' }).resolves({ Quota: { QuotaCode: 'L-1216C47A', Value: 64 } });
  ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: {} }));
  ssm.on(GetParameterCommand, { Name: `/greenlight/${APP}/releases/r2/ami-id` }).resolves({ Parameter: { Value: AMI } });
  ssm.on(GetParameterCommand, { Name: `/greenlight/${APP}/staging/live-release` }).resolves({ Parameter: { Value: 'r1' } });
  ec2.on(DescribeImagesCommand, { ImageIds: [AMI] }).resolves({ Images: [{ ImageId: AMI, State: 'available' }] });
  ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-a', AvailableIpAddressCount: 250 }, { SubnetId: 'subnet-b', AvailableIpAddressCount: 250 }] });
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: `${STACK}-Fleet-r1`,
        MinSize: 1,
        MaxSize: 4,
        DesiredCapacity: 2,
        DefaultCooldown: 300,
        AvailabilityZones: ['eu-west-1a'],
        HealthCheckType: 'ELB',
        CreatedTime: new Date(0),
        TargetGroupARNs: [LIVE_TG],
      },
    ],
  });
  elb.on(DescribeAccountLimitsCommand).resolves({ Limits: [{ Name: 'rules-per-application-load-balancer', Max: '100' }, { Name: 'target-groups', Max: '3000' }] });
  elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: LIVE_TG }] });
  elb.on(DescribeTargetGroupsCommand, { TargetGroupArns: [LIVE_TG] }).resolves({ TargetGroups: [{ TargetGroupArn: LIVE_TG, LoadBalancerArns: [LB] }] });
  elb.on(DescribeListenersCommand).resolves({
    Listeners: [
      { ListenerArn: SERVING, Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: LIVE_TG }] },
      { ListenerArn: PREVIEW, Port: 8080, DefaultActions: [{ Type: 'fixed-response' }] },
    ],
  });
  elb.on(DescribeRulesCommand).resolves({ Rules: [{ Priority: 'default', IsDefault: true }] });
  elb.on(DescribeRulesCommand, { ListenerArn: PREVIEW }).resolves({ Rules: [{ Priority: '10001' }, { Priority: 'default', IsDefault: true }] });
});

describe('preflight', () => {
  it('finds nothing wrong with a healthy environment', async () => {
    expect(await preflight()).toEqual([]);
  });

  it('refuses a made-up AMI, naming it and where it was read', async () => {
    ec2.on(DescribeImagesCommand, { ImageIds: [AMI] }).rejects(Object.assign(new Error(`The image id '[${AMI}]' does not exist`), { name: 'InvalidAMIID.NotFound' }));
    expect(await preflight()).toEqual([
      `AMI: ${AMI} does not exist in eu-west-1, or is not shared with this account (from /greenlight/${APP}/releases/r2/ami-id)`,
    ]);
  });

  it('refuses an AMI that is not available yet, and a release with no AMI at all', async () => {
    ec2.on(DescribeImagesCommand, { ImageIds: [AMI] }).resolves({ Images: [{ ImageId: AMI, State: 'pending' }] });
    expect(await preflight()).toEqual([`AMI: ${AMI} is pending in eu-west-1, not available`]);
    ssm.on(GetParameterCommand, { Name: `/greenlight/${APP}/releases/r2/ami-id` }).rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: {} }));
    expect(await preflight()).toEqual([
      `AMI: no AMI is published for the release (/greenlight/${APP}/releases/r2/ami-id does not exist in eu-west-1); run greenlight publish-ami first`,
    ]);
  });

  it('refuses a full group: the live group runs more instances than capacity.max', async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{ AutoScalingGroupName: `${STACK}-Fleet-r1`, MinSize: 1, MaxSize: 6, DesiredCapacity: 6, DefaultCooldown: 300, AvailabilityZones: ['eu-west-1a'], HealthCheckType: 'ELB', CreatedTime: new Date(0), TargetGroupARNs: [LIVE_TG] }],
    });
    expect(await preflight()).toEqual([
      'capacity: the live group of r1 runs 6 instances, more than capacity.max 4; the new fleet could not match it: raise capacity.max to at least 6',
    ]);
  });

  it('refuses a serving listener changed by hand', async () => {
    elb.on(DescribeListenersCommand).resolves({
      Listeners: [
        { ListenerArn: SERVING, Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: OTHER_TG }] },
        { ListenerArn: PREVIEW, Port: 8080, DefaultActions: [{ Type: 'fixed-response' }] },
      ],
    });
    expect(await preflight()).toEqual([
      'listener: the serving listener (port 80) forwards to targetgroup/by-hand/0000000000000000, not to targetgroup/r1-web/73e2d6bc24d8a067 ' +
        'of the live release r1: it was changed by hand; put it back or find out why before deploying',
    ]);
  });

  it('refuses full subnets and full limits, each in one line', async () => {
    ec2.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-a', AvailableIpAddressCount: 1 }, { SubnetId: 'subnet-b', AvailableIpAddressCount: 2 }] });
    elb.on(DescribeAccountLimitsCommand).resolves({ Limits: [{ Name: 'rules-per-application-load-balancer', Max: '1' }, { Name: 'target-groups', Max: '1' }] });
    expect(await preflight()).toEqual([
      'subnets: 3 free addresses (subnet-a 1, subnet-b 2); the new fleet of 2 and the functions need 4',
      'listener rules: the load balancer has 1 rules, its limit is 1; no room for the release\'s preview rule',
      'target groups: the account has 1 in eu-west-1, its limit is 1; no room for the release\'s',
    ]);
  });

  it("refuses a new fleet at capacity.max that the account's Standard vCPU quota has no room for", async () => {
    // Running: 4 vCPUs of the live fleet, 16 of an m5.4xlarge; a Spot c5 and a g5 count against other quotas.
    running(instance('m5.4xlarge', 8), instance('c5.9xlarge', 18, true), instance('g5.xlarge', 2));
    quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 26 } });
    expect(await preflight()).toEqual([
      "vCPUs: 20 Standard vCPUs run in eu-west-1 and the new fleet at capacity.max 4 × t3.small (2 vCPUs) needs 8 more: 28, over the account's On-Demand Standard vCPU quota of 26 (Service Quotas L-1216C47A); request a higher quota or lower capacity.max to 3",
    ]);
    expect(ec2.commandCalls(DescribeInstancesCommand)[0].args[0].input.Filters).toEqual([{ Name: 'instance-state-name', Values: ['pending', 'running'] }]);
  });

  it('passes a fleet that fits the vCPU quota exactly, and says nothing when Service Quotas has no value', async () => {
    running(instance('m5.4xlarge', 8), instance('g5.xlarge', 2));
    quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 28 } });
    expect(await preflight()).toEqual([]);
    quotas.on(GetServiceQuotaCommand).rejects(new NoSuchResourceException({ message: 'The request failed because the specified service does not exist.', $metadata: {} }));
    running(instance('m5.24xlarge', 48));
    expect(await preflight()).toEqual([]);
  });

  it('greenlight deploy prints each problem and refuses before cdk runs', async () => {
    ec2.on(DescribeImagesCommand, { ImageIds: [AMI] }).rejects(Object.assign(new Error('not found'), { name: 'InvalidAMIID.NotFound' }));
    const lines: string[] = [];
    const cdkCalls: string[][] = [];
    const rt: DeployRuntime = {
      clients: createClients('eu-west-1'),
      preflight: (plan) => runPreflight(createClients('eu-west-1'), new EC2Client({ region: 'eu-west-1' }), quotasClient(), prepared().env, plan),
      runCdk: async (args) => {
        cdkCalls.push([...args]);
        return 0;
      },
      print: (line) => lines.push(line),
      now: () => Date.UTC(2026, 10, 22),
      sleep: async () => undefined,
    };
    expect(await runDeploy(prepared(), rt)).toBe(1);
    expect(cdkCalls).toEqual([]);
    expect(lines.filter((l) => l.startsWith('preflight: '))).toEqual([
      `preflight: AMI: ${AMI} does not exist in eu-west-1, or is not shared with this account (from /greenlight/${APP}/releases/r2/ami-id)`,
    ]);
    expect(lines.at(-1)).toBe(`deploy refused before cdk deploy touched ${STACK}: 1 problem above`);
  });
});

describe('the vCPU quota check', () => {
  const facts = (instanceType: string, quota: number): PreflightFacts => ({
    region: 'eu-west-1',
    ami: { id: AMI, state: 'available' },
    capacity: { min: 1, desired: 2, max: 4 },
    freeAddresses: new Map(),
    targetGroups: { count: 1 },
    vcpus: { running: [{ instanceType: 'm5.large', vcpus: 2 }], instanceType, perInstance: 4, quota },
  });

  it('holds only instance types of the Standard quota to it', () => {
    expect(preflightProblems(facts('m5.xlarge', 10))).toHaveLength(1);
    expect(preflightProblems(facts('g5.xlarge', 10))).toEqual([]);
  });

  it('knows the Standard families from those with quotas of their own', () => {
    const standard = ['a1.large', 'c7gn.xlarge', 'd3en.xlarge', 'h1.2xlarge', 'i4i.large', 'im4gn.large', 'is4gen.large', 'm7i.large', 'r8g.large', 't3.small', 'z1d.large'];
    const others = ['mac1.metal', 'inf2.xlarge', 'hpc7g.4xlarge', 'dl1.24xlarge', 'trn1.2xlarge', 'u-6tb1.metal', 'x2idn.large', 'g5.xlarge', 'p5.48xlarge', 'f1.2xlarge', 'vt1.3xlarge'];
    expect(standard.filter((t) => !isStandardFamily(t))).toEqual([]);
    expect(others.filter(isStandardFamily)).toEqual([]);
  });
});
