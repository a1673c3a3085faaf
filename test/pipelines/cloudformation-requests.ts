// The requests CloudFormation makes with its execution role to create, update and delete the resources
// of a synthesized template: for each resource, every permission the registry lists for the type's
// handlers (test/fixtures/cloudformation-handlers.json), on the ARN it is checked against, with the
// placeholders of the template filled in as CloudFormation fills them (generated names, ids, the
// account and region). Also: invoking each custom resource's provider, and resolving each SSM
// parameter the template takes.
// The ARN of a permission is the resource's own when the action takes the resource's type, otherwise
// that of the resource it names (a function's role, a route's table); only an action that takes no
// resource is checked on `*`. A permission for which none fits is returned as unresolved: the test
// then requires an exception, with its reason, for it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { actionResourceTypes, type RequestContext } from '../helpers/iam-simulator';
import { REPO_ROOT } from '../helpers/settings';

export type Handler = 'create' | 'update' | 'delete';

export interface HandlerPermissions {
  readonly source: { readonly repository: string; readonly commit: string; readonly schemas: string };
  readonly types: Readonly<Record<string, Partial<Record<Handler, readonly string[]>>>>;
}

export const handlerPermissions = (): HandlerPermissions =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'cloudformation-handlers.json'), 'utf8')) as HandlerPermissions;

export interface Stack {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly template: { readonly Resources: Record<string, CfnResource>; readonly Parameters?: Record<string, { Type: string; Default?: string }> };
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface Request {
  readonly logicalId: string;
  readonly type: string;
  /** The handler, or `invoke` (a custom resource's provider) or `resolve` (a template parameter). */
  readonly handler: Handler | 'invoke' | 'resolve';
  /** The permission as the registry lists it (a wildcard one stands for the actions it was expanded to). */
  readonly permission: string;
  readonly action: string;
  readonly resource: string;
  readonly context: RequestContext;
}

export interface Unresolved {
  readonly logicalId: string;
  readonly type: string;
  readonly handler: Handler;
  readonly permission: string;
}

/** An ARN a request may be checked on, with its IAM service and resource type (lower case, as AWS's reference names it). */
interface Candidate {
  readonly service: string;
  readonly type: string;
  readonly arn: string;
  readonly context?: RequestContext;
  /** Only for these actions. @default - any that takes its type */
  readonly actions?: readonly string[];
  /** Not for these actions. @default - none */
  readonly except?: readonly string[];
}

/** A logical id's stand-in for the id AWS gives the resource: stable, and of the form AWS uses. */
const idOf = (logicalId: string, length = 17): string => createHash('sha256').update(logicalId).digest('hex').slice(0, length);

/** The name CloudFormation generates for a resource without one: `<stack>-<logical id>-<13 characters>`, cut to fit. */
const generatedName = (stack: string, logicalId: string, max: number): string => `${`${stack}-${logicalId}`.slice(0, max - 14)}-${idOf(logicalId, 13).toUpperCase()}`;

/** The logical id a Ref or Fn::GetAtt names, or undefined for anything else. */
const refOf = (value: unknown): string | undefined => {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return v.Ref ?? v['Fn::GetAtt']?.[0];
};

/** The registry's wildcard permissions, each as the actions it stands for in greenlight's stacks, and why those. */
export const WILDCARD_PERMISSIONS: Readonly<Record<string, { readonly actions: readonly string[]; readonly why: string }>> = {
  'autoscaling:Describe*': {
    actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScalingActivities', 'autoscaling:DescribePolicies', 'autoscaling:DescribeScheduledActions'],
    why: "the group and what the stack puts on it: its activities (which the handler waits on), its policies and scheduled actions",
  },
  'ec2:Describe*': {
    actions: ['ec2:DescribeLaunchTemplateVersions', 'ec2:DescribeLaunchTemplates', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeImages', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeAccountAttributes'],
    why: 'what a group launches from: its launch template, subnets, security groups and image',
  },
  'elasticloadbalancing:Describe*': {
    actions: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeLoadBalancers'],
    why: "the group's target groups",
  },
  'ssm:Get*': {
    actions: ['ssm:GetParameters'],
    why: "the launch template's image, when it is an SSM parameter",
  },
};

/** Service principals a role is passed to, by the type that passes it. */
const PASSED_TO: Readonly<Record<string, string>> = {
  'AWS::Lambda::Function': 'lambda.amazonaws.com',
  'AWS::StepFunctions::StateMachine': 'states.amazonaws.com',
  'AWS::EC2::FlowLog': 'vpc-flow-logs.amazonaws.com',
  'AWS::EC2::LaunchTemplate': 'ec2.amazonaws.com',
  'AWS::AutoScaling::AutoScalingGroup': 'ec2.amazonaws.com',
  'AWS::IAM::InstanceProfile': 'ec2.amazonaws.com',
};

/** Resolves a template's resources to ARNs. */
export class Arns {
  constructor(private readonly stack: Stack) {}

  private get ec2() {
    return `arn:aws:ec2:${this.stack.region}:${this.stack.account}`;
  }
  private get elb() {
    return `arn:aws:elasticloadbalancing:${this.stack.region}:${this.stack.account}`;
  }
  private resource(id: string): CfnResource {
    const r = this.stack.template.Resources[id];
    if (!r) throw new Error(`${this.stack.name}: no resource ${id}`);
    return r;
  }
  private props(id: string): Record<string, unknown> {
    return this.resource(id).Properties ?? {};
  }
  private lbName(id: string) {
    return `${this.stack.name.slice(0, 8)}-${id.slice(0, 8)}-${idOf(id, 8)}`;
  }

  /** A managed policy's ARN as the template writes it. */
  managedPolicyArn(value: unknown): string {
    return this.resolve(value);
  }

  /** A property value with its intrinsics resolved the way CloudFormation would, ids standing in for what AWS assigns. */
  resolve(value: unknown): string {
    if (typeof value === 'string') return value;
    const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string]; 'Fn::Join'?: [string, unknown[]]; 'Fn::Sub'?: string };
    const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': this.stack.region, 'AWS::AccountId': this.stack.account, 'AWS::URLSuffix': 'amazonaws.com' };
    if (v.Ref !== undefined) {
      if (pseudo[v.Ref]) return pseudo[v.Ref];
      const r = this.stack.template.Resources[v.Ref];
      // A state machine's and a managed policy's Ref is their ARN; the others used in policies here are names or ids.
      if (r?.Type === 'AWS::StepFunctions::StateMachine') return this.own(v.Ref)[0].arn;
      if (r) return this.own(v.Ref)[0]?.arn.split(/[/:]/).pop() ?? v.Ref;
    }
    if (v['Fn::GetAtt']) {
      const [id, attribute] = v['Fn::GetAtt'];
      // A log group's Arn attribute covers its streams.
      if (attribute === 'Arn') return `${this.own(id)[0].arn}${this.resource(id).Type === 'AWS::Logs::LogGroup' ? ':*' : ''}`;
      if (attribute === 'DefaultSecurityGroup') return `sg-${idOf(`${id}.DefaultSecurityGroup`)}`;
      // A load balancer's and a target group's full names are the tails of their ARNs.
      if (attribute === 'LoadBalancerFullName') return this.own(id)[0].arn.split(':loadbalancer/')[1];
      if (attribute === 'TargetGroupFullName') return this.own(id)[0].arn.split(':').pop()!;
      // Any other attribute: a stand-in of its own.
      return `${attribute}-${idOf(`${id}.${attribute}`, 8)}`;
    }
    if (v['Fn::Join']) return v['Fn::Join'][1].map((part) => this.resolve(part)).join(v['Fn::Join'][0]);
    if (typeof v['Fn::Sub'] === 'string') return v['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (m, name: string) => pseudo[name] ?? m);
    throw new Error(`${this.stack.name}: a value of a form not resolved here: ${JSON.stringify(value)}`);
  }

  roleArn(id: string): string {
    const name = (this.props(id).RoleName as string | undefined) ?? generatedName(this.stack.name, id, 64);
    return `arn:aws:iam::${this.stack.account}:role/${name}`;
  }

  /** The resource's own ARNs: what it is, by IAM service and resource type. */
  own(id: string): Candidate[] {
    const { name: stack, region, account } = this.stack;
    const p = this.props(id);
    const ec2 = (type: string, prefix: string): Candidate[] => [{ service: 'ec2', type, arn: `${this.ec2}:${type}/${prefix}-${idOf(id)}` }];
    switch (this.resource(id).Type) {
      case 'AWS::EC2::VPC': return ec2('vpc', 'vpc');
      case 'AWS::EC2::Subnet': return ec2('subnet', 'subnet');
      case 'AWS::EC2::RouteTable': return ec2('route-table', 'rtb');
      case 'AWS::EC2::InternetGateway': return ec2('internet-gateway', 'igw');
      case 'AWS::EC2::EIP': return ec2('elastic-ip', 'eipalloc');
      case 'AWS::EC2::NatGateway': return ec2('natgateway', 'nat');
      case 'AWS::EC2::SecurityGroup': return ec2('security-group', 'sg');
      case 'AWS::EC2::SecurityGroupIngress':
      case 'AWS::EC2::SecurityGroupEgress': return ec2('security-group-rule', 'sgr');
      case 'AWS::EC2::LaunchTemplate': return ec2('launch-template', 'lt');
      case 'AWS::EC2::FlowLog': return ec2('vpc-flow-log', 'fl');
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
        const arn = `${this.elb}:loadbalancer/app/${this.lbName(id)}/${idOf(id, 16)}`;
        return [{ service: 'elasticloadbalancing', type: 'loadbalancer/app/', arn }, { service: 'elasticloadbalancing', type: 'loadbalancer', arn }];
      }
      case 'AWS::ElasticLoadBalancingV2::TargetGroup':
        return [{ service: 'elasticloadbalancing', type: 'targetgroup', arn: `${this.elb}:targetgroup/${this.lbName(id)}/${idOf(id, 16)}` }];
      case 'AWS::ElasticLoadBalancingV2::Listener': {
        const lb = refOf(p.LoadBalancerArn)!;
        return [{ service: 'elasticloadbalancing', type: 'listener/app', arn: `${this.elb}:listener/app/${this.lbName(lb)}/${idOf(lb, 16)}/${idOf(id, 16)}` }];
      }
      case 'AWS::ElasticLoadBalancingV2::ListenerRule': {
        const listener = refOf(p.ListenerArn)!;
        const lb = refOf(this.props(listener).LoadBalancerArn)!;
        return [{ service: 'elasticloadbalancing', type: 'listener-rule/app', arn: `${this.elb}:listener-rule/app/${this.lbName(lb)}/${idOf(lb, 16)}/${idOf(listener, 16)}/${idOf(id, 16)}` }];
      }
      case 'AWS::AutoScaling::AutoScalingGroup':
        return [{ service: 'autoscaling', type: 'autoscalinggroup', arn: `arn:aws:autoscaling:${region}:${account}:autoScalingGroup:${idOf(id, 8)}-0000-4000-8000-${idOf(id, 12)}:autoScalingGroupName/${(p.AutoScalingGroupName as string | undefined) ?? generatedName(stack, id, 255)}` }];
      case 'AWS::IAM::Role': {
        // Attaching and detaching a managed policy carry its ARN: one request per policy the role names.
        // The boundary the role carries, which IAM's calls on it present as iam:PermissionsBoundary.
        const boundary: RequestContext = p.PermissionsBoundary === undefined ? {} : { 'iam:PermissionsBoundary': this.managedPolicyArn(p.PermissionsBoundary) };
        const role = { service: 'iam', type: 'role', arn: this.roleArn(id), context: boundary };
        const attach = ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'];
        return [
          { ...role, except: attach },
          ...((p.ManagedPolicyArns as unknown[] | undefined) ?? []).map((m) => ({ ...role, actions: attach, context: { ...boundary, 'iam:PolicyARN': this.managedPolicyArn(m) } })),
        ];
      }
      case 'AWS::IAM::InstanceProfile':
        return [{ service: 'iam', type: 'instance-profile', arn: `arn:aws:iam::${account}:instance-profile/${(p.InstanceProfileName as string | undefined) ?? generatedName(stack, id, 128)}` }];
      case 'AWS::Lambda::Function':
        return [{ service: 'lambda', type: 'function', arn: `arn:aws:lambda:${region}:${account}:function:${(p.FunctionName as string | undefined) ?? generatedName(stack, id, 64)}` }];
      case 'AWS::Logs::LogGroup':
        return [{ service: 'logs', type: 'log-group', arn: `arn:aws:logs:${region}:${account}:log-group:${(p.LogGroupName as string | undefined) ?? generatedName(stack, id, 512)}` }];
      case 'AWS::S3::Bucket':
        return [{ service: 's3', type: 'bucket', arn: `arn:aws:s3:::${(p.BucketName as string | undefined) ?? generatedName(stack, id, 63).toLowerCase()}` }];
      case 'AWS::SSM::Parameter': return [{ service: 'ssm', type: 'parameter', arn: `arn:aws:ssm:${region}:${account}:parameter${p.Name as string}` }];
      case 'AWS::StepFunctions::StateMachine':
        return [{ service: 'states', type: 'statemachine', arn: `arn:aws:states:${region}:${account}:stateMachine:${(p.StateMachineName as string | undefined) ?? `${id}-${idOf(id, 12)}`}` }];
      default: return [];
    }
  }

  /** The ARNs of the resources it names, which its handlers act on too. */
  related(id: string): Candidate[] {
    const { type, p } = { type: this.resource(id).Type, p: this.props(id) };
    const of = (value: unknown): Candidate[] => {
      const ref = refOf(value);
      return ref && this.stack.template.Resources[ref] ? this.own(ref) : [];
    };
    const passed = (roleId: string | undefined): Candidate[] =>
      roleId ? [{ service: 'iam', type: 'role', arn: this.roleArn(roleId), actions: ['iam:PassRole'], context: { 'iam:PassedToService': PASSED_TO[type] } }] : [];
    const profileRole = (profile: unknown): string | undefined => refOf((this.props(refOf(profile)!).Roles as unknown[])[0]);
    switch (type) {
      case 'AWS::EC2::Subnet':
      case 'AWS::EC2::RouteTable':
      case 'AWS::EC2::SecurityGroup':
      case 'AWS::ElasticLoadBalancingV2::TargetGroup': return of(p.VpcId);
      case 'AWS::EC2::Route': return of(p.RouteTableId);
      case 'AWS::EC2::SubnetRouteTableAssociation': return [...of(p.SubnetId), ...of(p.RouteTableId)];
      case 'AWS::EC2::NatGateway': return [...of(p.SubnetId), ...of(p.AllocationId)];
      case 'AWS::EC2::VPCGatewayAttachment': return [...of(p.VpcId), ...of(p.InternetGatewayId)];
      case 'AWS::EC2::SecurityGroupIngress':
      case 'AWS::EC2::SecurityGroupEgress': return of(p.GroupId);
      case 'AWS::EC2::FlowLog': return [...of(p.ResourceId), ...of(p.LogGroupName), ...passed(refOf(p.DeliverLogsPermissionArn))];
      case 'AWS::EC2::LaunchTemplate': {
        const data = p.LaunchTemplateData as { IamInstanceProfile?: { Arn?: unknown } };
        return data.IamInstanceProfile ? [...of(data.IamInstanceProfile.Arn), ...passed(profileRole(data.IamInstanceProfile.Arn))] : [];
      }
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': return [...(p.Subnets as unknown[]).flatMap(of), ...((p.SecurityGroups as unknown[] | undefined) ?? []).flatMap(of)];
      case 'AWS::ElasticLoadBalancingV2::Listener': return of(p.LoadBalancerArn);
      case 'AWS::ElasticLoadBalancingV2::ListenerRule': return of(p.ListenerArn);
      case 'AWS::AutoScaling::ScalingPolicy':
      case 'AWS::AutoScaling::ScheduledAction': return of(p.AutoScalingGroupName);
      case 'AWS::AutoScaling::AutoScalingGroup': return this.launched(id);
      case 'AWS::IAM::Policy': return (p.Roles as unknown[]).flatMap(of);
      case 'AWS::IAM::InstanceProfile': return (p.Roles as unknown[]).flatMap((r) => passed(refOf(r)));
      case 'AWS::Lambda::Function': {
        const code = p.Code as { S3Bucket?: string; S3Key?: string };
        const bucket = code.S3Bucket ? String(code.S3Bucket).replace('${AWS::AccountId}', this.stack.account).replace('${AWS::Region}', this.stack.region) : undefined;
        return [...passed(refOf(p.Role)), ...(bucket ? [{ service: 's3', type: 'object', arn: `arn:aws:s3:::${bucket}/${code.S3Key}` }] : [])];
      }
      case 'AWS::StepFunctions::StateMachine': return passed(refOf(p.RoleArn));
      case 'AWS::S3::BucketPolicy': return of(p.Bucket);
      case 'AWS::S3::Bucket': return this.own(id).map((b) => ({ ...b, type: 'object', arn: `${b.arn}/*` }));
      default: return [];
    }
  }

  /** What a group launches: its launch template and what that names, its subnets, target groups, the image and the new instances. */
  private launched(id: string): Candidate[] {
    const p = this.props(id);
    const lt = refOf((p.LaunchTemplate as { LaunchTemplateId: unknown }).LaunchTemplateId)!;
    const data = this.props(lt).LaunchTemplateData as { SecurityGroupIds?: unknown[]; ImageId?: unknown };
    const image = refOf(data.ImageId);
    const ec2 = (type: string, prefix: string): Candidate => ({ service: 'ec2', type, arn: `${this.ec2}:${type}/${prefix}-${idOf(id)}` });
    return [
      ...this.own(lt),
      ...this.related(lt),
      ...((p.VPCZoneIdentifier as unknown[] | undefined) ?? []).flatMap((s) => this.own(refOf(s)!)),
      ...((p.TargetGroupARNs as unknown[] | undefined) ?? []).flatMap((t) => this.own(refOf(t)!)),
      ...(data.SecurityGroupIds ?? []).flatMap((g) => this.own(refOf(g)!)),
      // The release's AMI, which the template takes as an SSM parameter the handler reads.
      ...(image ? [{ service: 'ec2', type: 'image', arn: `arn:aws:ec2:${this.stack.region}::image/ami-${idOf(image)}` }] : []),
      ...(image && this.stack.template.Parameters?.[image]
        ? [{ service: 'ssm', type: 'parameter', arn: `arn:aws:ssm:${this.stack.region}:${this.stack.account}:parameter${this.stack.template.Parameters[image].Default!}` }]
        : []),
      // Auto Scaling's service-linked role, which the handler creates when the account has none yet.
      {
        service: 'iam', type: 'role', actions: ['iam:CreateServiceLinkedRole'], context: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' },
        arn: `arn:aws:iam::${this.stack.account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      },
      ec2('instance', 'i'),
      ec2('volume', 'vol'),
      ec2('network-interface', 'eni'),
    ];
  }
}

/**
 * Every request the execution role must be allowed for this stack, and the permissions for which no
 * ARN fits (features the template does not use, or types the table above does not know yet).
 */
export async function cloudFormationRequests(stack: Stack): Promise<{ requests: Request[]; unresolved: Unresolved[]; untyped: string[] }> {
  const handlers = handlerPermissions().types;
  const arns = new Arns(stack);
  const requests: Request[] = [];
  const unresolved: Unresolved[] = [];
  const untyped: string[] = [];
  const resources = Object.entries(stack.template.Resources).filter(([, r]) => r.Type !== 'AWS::CDK::Metadata');
  for (const [logicalId, r] of resources) {
    if (r.Type.startsWith('Custom::') || r.Type === 'AWS::CloudFormation::CustomResource') {
      const provider = refOf(r.Properties?.ServiceToken);
      if (!provider) throw new Error(`${stack.name} ${logicalId}: a custom resource whose ServiceToken names no function of the stack`);
      const [fn] = arns.own(provider);
      requests.push({ logicalId, type: r.Type, handler: 'invoke', permission: 'lambda:InvokeFunction', action: 'lambda:InvokeFunction', resource: fn.arn, context: {} });
      continue;
    }
    const byHandler = handlers[r.Type];
    if (!byHandler) {
      untyped.push(r.Type);
      continue;
    }
    const own = arns.own(logicalId);
    const related = arns.related(logicalId);
    for (const handler of ['create', 'update', 'delete'] as const) {
      for (const permission of byHandler[handler] ?? []) {
        const actions = permission.includes('*') ? WILDCARD_PERMISSIONS[permission]?.actions : [permission];
        if (!actions) {
          unresolved.push({ logicalId, type: r.Type, handler, permission });
          continue;
        }
        for (const action of actions) {
          const found = await targets(action, own, related);
          if (!found) unresolved.push({ logicalId, type: r.Type, handler, permission });
          else for (const c of found) requests.push({ logicalId, type: r.Type, handler, permission, action, resource: c.arn, context: await presented(action, c.context) });
        }
      }
    }
  }
  // CloudFormation resolves an SSM parameter type with the caller's permissions.
  for (const [name, parameter] of Object.entries(stack.template.Parameters ?? {})) {
    if (!parameter.Type.startsWith('AWS::SSM::Parameter::')) continue;
    requests.push({
      logicalId: name, type: parameter.Type, handler: 'resolve', permission: 'ssm:GetParameters', action: 'ssm:GetParameters',
      resource: `arn:aws:ssm:${stack.region}:${stack.account}:parameter${parameter.Default!}`, context: {},
    });
  }
  return { requests, unresolved, untyped };
}

/** The request context an action carries: of a candidate's, the keys the action takes. */
export async function presented(action: string, context: RequestContext = {}): Promise<RequestContext> {
  const { conditionKeys } = await actionResourceTypes(action);
  return Object.fromEntries(Object.entries(context).filter(([k]) => k.startsWith('aws:') || conditionKeys.includes(k.toLowerCase())));
}

/** The ARNs an action is checked on for this resource, or undefined when none fits. */
async function targets(action: string, own: Candidate[], related: Candidate[]): Promise<Candidate[] | undefined> {
  let details;
  try {
    details = await actionResourceTypes(action);
  } catch {
    // Not an action AWS's reference knows (the registry lists a few that are not IAM actions).
    return undefined;
  }
  const service = action.split(':')[0].toLowerCase();
  const fits = (c: Candidate) =>
    c.service === service && details.types.includes(c.type) && (!c.actions || c.actions.includes(action)) && !c.except?.includes(action);
  const mine = own.filter(fits);
  if (mine.length) return mine;
  const theirs = related.filter(fits);
  if (theirs.length) return theirs;
  // Only an action that takes no resource at all is checked on `*`: on `*`, a grant on any one
  // resource would count.
  if (details.wildcardOnly || details.types.length === 0) return [{ service, type: '*', arn: '*' }];
  return undefined;
}
