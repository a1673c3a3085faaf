// The proof that CloudFormation's execution policy (iam/cloudformation-execution-policy.json) lets
// CloudFormation create, update and delete every resource of every shape of a greenlight stack:
// each permission the registry lists for the type's handlers (test/fixtures/cloudformation-handlers.json,
// refreshed by scripts/refresh-handler-permissions.ts), on the ARN that resource will have, evaluated
// by an IAM policy simulator. A permission the policy refuses fails the test unless it is on the
// exception list below, whose every entry names the feature it belongs to, and that feature must be
// unused by every resource it excuses.
import { beforeAll, describe, expect, it } from 'vitest';
import { decide, type PolicyDocument } from '../helpers/iam-simulator';
import { cdkContext, REPO_ROOT } from '../helpers/settings';
import { type CfnResource, cloudFormationRequests, handlerPermissions, type Request, type Stack, type Unresolved, WILDCARD_PERMISSIONS } from './cloudformation-requests';
import { renderPolicy } from './iam-policy';
import { type Shape, stacksOf } from './shapes';

interface Exception {
  readonly type: string;
  readonly permissions: readonly string[];
  /** Holds for a resource that does not use the feature; an exception applies to no other resource. */
  readonly unused: (properties: Record<string, unknown>) => boolean;
  readonly why: string;
}

const absent = (...keys: string[]) => (p: Record<string, unknown>) => keys.every((k) => p[k] === undefined);
const always = () => true;
const NOT_IAM = "not an IAM action (the registry lists the API's name; IAM authorizes it under another, which is granted)";

/** Permissions a handler needs only for what greenlight's templates do not use. */
const EXCEPTIONS: readonly Exception[] = [
  { type: 'AWS::Lambda::Function', permissions: ['kms:CreateGrant', 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], unused: absent('KmsKeyArn'), why: "a customer managed key for the function's environment" },
  { type: 'AWS::Lambda::Function', permissions: ['elasticfilesystem:DescribeMountTargets'], unused: absent('FileSystemConfigs'), why: 'an EFS file system' },
  { type: 'AWS::Lambda::Function', permissions: ['lambda:GetCodeSigningConfig', 'lambda:PutFunctionCodeSigningConfig'], unused: absent('CodeSigningConfigArn'), why: 'code signing' },
  { type: 'AWS::Lambda::Function', permissions: ['lambda:GetLayerVersion'], unused: absent('Layers'), why: 'layers' },
  { type: 'AWS::StepFunctions::StateMachine', permissions: ['kms:DescribeKey', 'kms:GenerateDataKey'], unused: absent('EncryptionConfiguration'), why: 'a customer managed key' },
  { type: 'AWS::StepFunctions::StateMachine', permissions: ['s3:GetObject'], unused: absent('DefinitionS3Location'), why: 'a definition read from S3' },
  { type: 'AWS::Logs::LogGroup', permissions: ['logs:AssociateKmsKey', 'logs:DisassociateKmsKey'], unused: absent('KmsKeyId'), why: 'a customer managed key' },
  { type: 'AWS::Logs::LogGroup', permissions: ['logs:PutResourcePolicy', 'logs:DescribeResourcePolicies'], unused: absent('ResourcePolicyDocument'), why: "a resource policy, which is the account's and region's, not the group's" },
  { type: 'AWS::Logs::LogGroup', permissions: ['logs:CreateLogDelivery', 'firehose:TagDeliveryStream'], unused: always, why: 'delivery of its events to Firehose or S3: no group of greenlight delivers anywhere' },
  { type: 'AWS::Logs::LogGroup', permissions: ['s3:REST.PUT.OBJECT'], unused: always, why: "not an IAM action (an S3 access log's operation name)" },
  { type: 'AWS::EC2::FlowLog', permissions: ['logs:CreateLogDelivery', 'logs:DeleteLogDelivery', 's3:GetBucketPolicy', 's3:PutBucketPolicy'], unused: (p) => p.LogDestinationType === 'cloud-watch-logs', why: 'delivery to S3 or Firehose; greenlight sends flow logs to CloudWatch Logs' },
  { type: 'AWS::EC2::EIP', permissions: ['ec2:AcceptAddressTransfer'], unused: absent('TransferAddress'), why: 'an address transferred from another account' },
  { type: 'AWS::EC2::NatGateway', permissions: ['ec2:AssignPrivateNatGatewayAddress', 'ec2:AssociateNatGatewayAddress', 'ec2:DisassociateNatGatewayAddress', 'ec2:UnassignPrivateNatGatewayAddress'], unused: absent('SecondaryAllocationIds', 'SecondaryPrivateIpAddresses', 'SecondaryPrivateIpAddressCount'), why: 'secondary addresses' },
  { type: 'AWS::EC2::Subnet', permissions: ['ec2:AssociateSubnetCidrBlock', 'ec2:DisassociateSubnetCidrBlock'], unused: absent('Ipv6CidrBlock', 'Ipv6CidrBlocks', 'AssignIpv6AddressOnCreation'), why: 'IPv6' },
  { type: 'AWS::EC2::VPC', permissions: ['ec2:ModifyVpcTenancy'], unused: (p) => p.InstanceTenancy === undefined || p.InstanceTenancy === 'default', why: 'dedicated tenancy' },
  { type: 'AWS::EC2::VPCGatewayAttachment', permissions: ['ec2:AttachVpnGateway', 'ec2:DetachVpnGateway'], unused: absent('VpnGatewayId'), why: 'a VPN gateway' },
  { type: 'AWS::ElasticLoadBalancingV2::Listener', permissions: ['cognito-idp:DescribeUserPoolClient'], unused: (p) => !JSON.stringify(p).includes('authenticate-cognito'), why: 'Cognito authentication' },
  { type: 'AWS::ElasticLoadBalancingV2::ListenerRule', permissions: ['cognito-idp:DescribeUserPoolClient'], unused: (p) => !JSON.stringify(p).includes('authenticate-cognito'), why: 'Cognito authentication' },
  { type: 'AWS::ElasticLoadBalancingV2::TargetGroup', permissions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'], unused: absent('Targets'), why: "targets named in the template; a release's group registers its instances itself" },
  { type: 'AWS::IAM::Policy', permissions: ['iam:PutUserPolicy', 'iam:GetUserPolicy', 'iam:DeleteUserPolicy'], unused: absent('Users'), why: 'IAM users' },
  { type: 'AWS::IAM::Policy', permissions: ['iam:PutGroupPolicy', 'iam:GetGroupPolicy', 'iam:DeleteGroupPolicy'], unused: absent('Groups'), why: 'IAM groups' },
  { type: 'AWS::IAM::Role', permissions: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'], unused: absent('ManagedPolicyArns'), why: 'managed policies: a role without one makes no such call' },
  { type: 'AWS::IAM::Role', permissions: ['iam:DeleteRolePermissionsBoundary'], unused: (p) => p.PermissionsBoundary !== undefined, why: "removing a role's permissions boundary, which the policy denies: every role of the stack keeps it" },
  { type: 'AWS::AutoScaling::ScalingPolicy', permissions: ['cloudwatch:GetMetricData'], unused: (p) => p.PolicyType !== 'PredictiveScaling', why: 'predictive scaling, which forecasts from the metric history' },
  { type: 'AWS::AutoScaling::AutoScalingGroup', permissions: ['cloudwatch:PutMetricAlarm'], unused: always, why: "alarms: Auto Scaling creates a target-tracking policy's alarms with its own service-linked role; greenlight's templates create none" },
  { type: 'AWS::AutoScaling::AutoScalingGroup', permissions: ['ec2:Get*'], unused: absent('MixedInstancesPolicy'), why: 'attribute-based instance types (the pattern would also grant GetPasswordData)' },
  {
    type: 'AWS::AutoScaling::AutoScalingGroup',
    permissions: ['managed-fleets:CreateAutoScalingGroup', 'managed-fleets:DeleteAutoScalingGroup', 'managed-fleets:DeregisterAutoScalingGroup', 'managed-fleets:Get*', 'managed-fleets:RegisterAutoScalingGroup', 'managed-fleets:UpdateAutoScalingGroup'],
    unused: always,
    why: "not in AWS's Service Authorization Reference: no policy can grant them",
  },
  { type: 'AWS::S3::Bucket', permissions: ['iam:PassRole'], unused: absent('ReplicationConfiguration'), why: 'replication' },
  {
    type: 'AWS::S3::Bucket',
    permissions: ['s3:DeleteBucketAnalyticsConfiguration', 's3:DeleteBucketCors', 's3:DeleteBucketEncryption', 's3:DeleteBucketLifecycle', 's3:DeleteBucketMetricsConfiguration', 's3:DeleteBucketReplication', 's3:PutBucketReplication', 's3:PutObjectLockConfiguration'],
    unused: always,
    why: NOT_IAM,
  },
];

const { app } = cdkContext();
/** The shapes the proof covers: all but the alarms', which adds no resource type. */
const PROVED: readonly Shape[] = ['every environment, r1', 'every environment, r2', 'staging, r2 with r1 standing by', 'staging, rolled back to the standby'];

const executionPolicy = (stack: Stack): PolicyDocument =>
  renderPolicy(REPO_ROOT, 'cloudformation-execution-policy.json', { ACCOUNT_ID: stack.account, REGION: stack.region, APP: app }) as unknown as PolicyDocument;

interface Outcome {
  readonly stack: Stack;
  readonly requests: readonly (Request & { readonly decision: string })[];
  readonly unresolved: readonly Unresolved[];
  readonly untyped: readonly string[];
}

/** Each shape's stacks, their requests and the simulator's decision on each. */
const outcomes = new Map<string, Outcome[]>();

const excusing = (stack: Stack, logicalId: string, type: string, permission: string): Exception | undefined =>
  EXCEPTIONS.find((e) => e.type === type && e.permissions.includes(permission) && e.unused((stack.template.Resources[logicalId] as CfnResource).Properties ?? {}));
const used = new Set<Exception>();
/** Each shape's refusals that no exception excuses. */
const refusals = new Map<string, string[]>();

/** The simulator's decision on each distinct request, by account, region, action, resource and context. */
const asked = new Map<string, string>();

beforeAll(async () => {
  for (const shape of PROVED) {
    const results: Outcome[] = [];
    for (const stack of stacksOf(shape)) {
      const policy = executionPolicy(stack);
      const principal = `arn:aws:iam::${stack.account}:role/cdk-hnb659fds-cfn-exec-role-${stack.account}-${stack.region}`;
      const { requests, unresolved, untyped } = await cloudFormationRequests(stack);
      const decided = [];
      for (const r of requests) {
        // The same request recurs across handlers and shapes (r1 and r2 share the network): asked once.
        const key = JSON.stringify([stack.account, stack.region, r.action, r.resource, r.context]);
        let decision = asked.get(key);
        if (!decision) {
          decision = await decide({ identity: [policy] }, { principal, action: r.action, resource: r.resource, context: { 'aws:RequestedRegion': stack.region, ...r.context } });
          asked.set(key, decision);
        }
        decided.push({ ...r, decision });
      }
      results.push({ stack, requests: decided, unresolved, untyped });
    }
    outcomes.set(shape, results);
    const refused: string[] = [];
    for (const { stack, requests, unresolved } of results) {
      for (const r of requests.filter((r) => r.decision !== 'Allowed')) {
        const e = excusing(stack, r.logicalId, r.type, r.permission);
        if (e) used.add(e);
        else refused.push(`${stack.name} ${r.logicalId} (${r.type}, ${r.handler}): ${r.action} on ${r.resource} ${JSON.stringify(r.context)} is ${r.decision}`);
      }
      for (const u of unresolved) {
        const e = excusing(stack, u.logicalId, u.type, u.permission);
        if (e) used.add(e);
        else refused.push(`${stack.name} ${u.logicalId} (${u.type}, ${u.handler}): no ARN for ${u.permission}`);
      }
    }
    refusals.set(shape, refused);
  }
}, 120_000);

describe('the vendored handler permissions', () => {
  const vendored = handlerPermissions();

  it('name the cfn-lint commit they were read at', () => {
    expect(vendored.source.repository).toBe('aws-cloudformation/cfn-lint');
    expect(vendored.source.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('cover every resource type of every shape, and only those', () => {
    const types = new Set(
      [...outcomes.values()].flat().flatMap((o) => Object.values(o.stack.template.Resources).map((r) => r.Type)).filter((t) => t.startsWith('AWS::') && t !== 'AWS::CDK::Metadata'),
    );
    expect([...outcomes.values()].flat().flatMap((o) => o.untyped), 'run scripts/refresh-handler-permissions.ts with --type for these').toEqual([]);
    expect(Object.keys(vendored.types).sort()).toEqual([...types].sort());
  });

  it('have a create and a delete handler for every type, and each wildcard permission is expanded or excepted', () => {
    for (const [type, handlers] of Object.entries(vendored.types)) {
      expect(handlers.create?.length, type).toBeGreaterThan(0);
      expect(handlers.delete?.length, type).toBeGreaterThan(0);
      for (const p of Object.values(handlers).flat().filter((p) => p!.includes('*'))) {
        const excepted = EXCEPTIONS.some((e) => e.type === type && e.permissions.includes(p!));
        expect(Boolean(WILDCARD_PERMISSIONS[p!]) || excepted, `${type} ${p}`).toBe(true);
      }
    }
    for (const [pattern, { actions }] of Object.entries(WILDCARD_PERMISSIONS)) {
      const prefix = pattern.slice(0, -1);
      for (const a of actions) expect(a.startsWith(prefix), `${a} is one of ${pattern}`).toBe(true);
    }
  });
});

describe.each(PROVED)('the execution policy, for %s', (shape) => {
  it('allows every handler permission of every resource on its ARN, but the excepted ones', () => {
    expect(outcomes.get(shape)!.reduce((n, o) => n + o.requests.length, 0)).toBeGreaterThan(500);
    expect(refusals.get(shape)).toEqual([]);
  });

  it("allows what the stack's Lambda functions need first: their code in CDK's assets bucket", () => {
    const code = outcomes.get(shape)!.flatMap((o) => o.requests.filter((r) => r.type === 'AWS::Lambda::Function' && r.handler === 'create' && r.action.startsWith('s3:GetObject')));
    expect(code.length).toBeGreaterThan(0);
    for (const r of code) {
      expect(r.resource).toMatch(/^arn:aws:s3:::cdk-hnb659fds-assets-\d{12}-[a-z0-9-]+\/[0-9a-f]{64}\.zip$/);
      expect(r.decision, r.resource).toBe('Allowed');
    }
  });

  it('invokes each custom resource\'s provider, and resolves the parameters the template takes', () => {
    for (const { requests } of outcomes.get(shape)!) {
      const invokes = requests.filter((r) => r.handler === 'invoke');
      expect(invokes.length).toBeGreaterThan(0);
      expect(invokes.filter((r) => r.decision !== 'Allowed')).toEqual([]);
      const resolves = requests.filter((r) => r.handler === 'resolve');
      expect(resolves.map((r) => r.resource)).toContainEqual(expect.stringMatching(/:parameter\/cdk-bootstrap\/hnb659fds\/version$/));
      expect(resolves.filter((r) => r.decision !== 'Allowed')).toEqual([]);
    }
  });
});

describe('the exception list', () => {
  it('is used, entry by entry, so it holds nothing stale', () => {
    expect(EXCEPTIONS.filter((e) => !used.has(e)).map((e) => `${e.type} ${e.permissions.join(' ')}`)).toEqual([]);
  });

  it('excuses only what the policy refuses', () => {
    const granted: string[] = [];
    for (const { stack, requests } of [...outcomes.values()].flat()) {
      for (const r of requests) {
        if (r.decision === 'Allowed' && excusing(stack, r.logicalId, r.type, r.permission)) granted.push(`${r.type} ${r.permission}`);
      }
    }
    expect([...new Set(granted)]).toEqual([]);
  });
});

describe('the proof itself', () => {
  it('fails a policy without the assets bucket grant, and one that cannot invoke the providers', async () => {
    const [{ stack, requests }] = outcomes.get('every environment, r1')!;
    const policy = executionPolicy(stack);
    const without = (sid: string): PolicyDocument => ({ ...policy, Statement: policy.Statement.filter((s) => s.Sid !== sid) });
    const principal = `arn:aws:iam::${stack.account}:role/cdk-hnb659fds-cfn-exec-role-${stack.account}-${stack.region}`;
    const ask = (p: PolicyDocument, r: Request) => decide({ identity: [p] }, { principal, action: r.action, resource: r.resource, context: { 'aws:RequestedRegion': stack.region, ...r.context } });
    const code = requests.find((r) => r.action === 's3:GetObject' && r.type === 'AWS::Lambda::Function')!;
    expect(await ask(without('ReadTheFunctionsCodeFromTheCdkAssetsBucket'), code)).toBe('ImplicitlyDenied');
    const invoke = requests.find((r) => r.handler === 'invoke')!;
    expect(await ask(without('TheAppsFunctions'), invoke)).toBe('ImplicitlyDenied');
  });
});
