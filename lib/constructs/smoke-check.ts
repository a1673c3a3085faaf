import * as path from 'node:path';
import { CustomResource, Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import type { SmokeResourceProperties } from '../smoke/properties';
import { SMOKE_FUNCTION_TIMEOUT } from '../time-limits';
import { customResourceRole, HandlerFunction } from './handler-function';
import { nagText } from './health-gate';
import type { ILoadBalancer } from './load-balancer';
import { acknowledgeProviderFramework, oneShotTimeout, parameterPath, sharedBySettings, validateParameterName } from './provider-framework';

export interface SmokeCheckProps {
  /** The VPC the checks' function runs in, in its private subnets with egress. */
  readonly vpc: ec2.IVpc;
  /**
   * The environment's load balancer (a `LoadBalancer`, or one from
   * `LoadBalancer.fromLoadBalancerAttributes`); the checks go through its preview listener, and its
   * security group admits the function's.
   */
  readonly loadBalancer: ILoadBalancer;
  /** The release whose preview route the checks use. */
  readonly release: string;
  /** The preview header's name (`ReleaseTargetGroupProps.previewHeader`); its value is the release id. */
  readonly previewHeader: string;
  /**
   * The release's preview key (`PreviewKeyProps.parameterName`), sent with every request. A
   * literal: the shared Provider's role may read under its parent path. Make `after` include the
   * `PreviewKey`.
   * @default - no key, for a rule that the header alone matches
   */
  readonly previewKeyParameterName?: string;
  /** Absolute paths, 1–20, each requested once. */
  readonly paths: readonly string[];
  /**
   * Statuses that pass: `200`, `200,202` or `200-299`.
   * @default '200'
   */
  readonly expectedStatuses?: string;
  /**
   * Time for each request.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Where the result is kept, `/greenlight/<app>/<env>/smoke/<release>`. A literal: the shared
   * Provider's role may write under its parent path.
   */
  readonly resultParameterName: string;
  /** What must complete first: the release's health gate. */
  readonly after: IDependable;
}

/**
 * After the gate passes, requests each path through the real load balancer with the preview
 * header, so the release answers before any user reaches it, and fails the deploy with the status
 * and the start of the body when a path does not answer as expected.
 *
 * The function runs in the VPC's private subnets with its own security group. An internal load
 * balancer is reached directly and admits that group. An internet-facing one is reached through
 * the NAT gateways, whose addresses it admits on the preview port when the VPC was created in this
 * app; for an imported VPC, admit them yourself (the environment's `preview.allowedCidrs`).
 * Checks with the same result path, key path, VPC and load balancer share one Provider; others get
 * a Provider of their own. Make the cutover depend on the checks.
 */
export class SmokeCheck extends Construct {
  /** The `Custom::SmokeCheck` resource; it completes when every path answers as expected. */
  readonly customResource: CustomResource;

  constructor(scope: Construct, id: string, props: SmokeCheckProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.seconds(10);
    validate(props, timeout);
    const provider = SmokeCheckProvider.of(this, props);
    const lb = props.loadBalancer;
    const properties: SmokeResourceProperties = {
      Release: props.release,
      BaseUrl: `${lb.previewProtocol}://${lb.alb.loadBalancerDnsName}:${lb.previewPort}`,
      Header: props.previewHeader,
      Paths: [...props.paths],
      ExpectedStatuses: props.expectedStatuses ?? '200',
      TimeoutSeconds: timeout.toSeconds(),
      ResultParameter: props.resultParameterName,
      ...(props.previewKeyParameterName ? { KeyParameter: props.previewKeyParameterName } : {}),
    };
    this.customResource = new CustomResource(this, 'Resource', {
      serviceToken: provider.provider.serviceToken,
      resourceType: 'Custom::SmokeCheck',
      serviceTimeout: provider.serviceTimeout,
      properties: { ...properties },
    });
    this.customResource.node.addDependency(props.after);
  }
}

/** The public addresses of the NAT gateways a VPC created in this app has, as /32 CIDRs; none for an imported VPC. */
function natAddresses(vpc: ec2.IVpc): string[] {
  return vpc.publicSubnets
    .map((subnet) => subnet.node.tryFindChild('EIP'))
    .filter((eip): eip is ec2.CfnEIP => eip instanceof ec2.CfnEIP)
    // Ref of an Elastic IP is its address.
    .map((eip) => Fn.join('', [eip.ref, '/32']));
}

function validate(props: SmokeCheckProps, timeout: Duration): void {
  if (props.paths.length < 1 || props.paths.length > 20) {
    throw new Error(`paths: lists ${props.paths.length} paths; allowed 1–20`);
  }
  for (const p of props.paths) {
    if (!Token.isUnresolved(p) && !p.startsWith('/')) throw new Error(`paths: "${p}" must be an absolute path such as "/orders/"`);
  }
  if (!timeout.isUnresolved() && (timeout.toSeconds() < 1 || timeout.toSeconds() > 60)) {
    throw new Error(`timeout: ${timeout.toSeconds()}s must be between 1 and 60 seconds`);
  }
  const statuses = props.expectedStatuses;
  if (statuses !== undefined && !Token.isUnresolved(statuses) && !/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(statuses)) {
    throw new Error(`expectedStatuses: "${statuses}" must be statuses such as "200", "200,202" or "200-299"`);
  }
  validateParameterName('resultParameterName', props.resultParameterName);
  if (props.previewKeyParameterName !== undefined) validateParameterName('previewKeyParameterName', props.previewKeyParameterName);
}

/** A smoke Provider: a function in the VPC that the load balancer admits, writing under one result path. */
class SmokeCheckProvider extends Construct {
  static of(scope: Construct, props: SmokeCheckProps): SmokeCheckProvider {
    const prefix = parameterPath(props.resultParameterName);
    const keyPrefix = props.previewKeyParameterName ? parameterPath(props.previewKeyParameterName) : undefined;
    const settings = { prefix, keyPrefix, vpc: props.vpc.node.path, loadBalancer: props.loadBalancer.node.path };
    return sharedBySettings(scope, 'SmokeCheckProvider', settings, (stack, id) => new SmokeCheckProvider(stack, id, props, prefix));
  }

  readonly provider: cr.Provider;
  /** The custom resource's ServiceTimeout: the handler's own time limit and a margin. */
  readonly serviceTimeout: Duration;

  private constructor(scope: Construct, id: string, props: SmokeCheckProps, prefix: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const { role, logGroup } = customResourceRole(this, 'Smoke', 'greenlight smoke checks: request the release through its preview route');
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'greenlight smoke checks: admits nothing',
      // Out to the load balancer, and to the SSM API through the NAT gateway for the result.
      allowAllOutbound: true,
    });
    const lb = props.loadBalancer;
    const previewPort = ec2.Port.tcp(lb.previewPort);
    // An internal load balancer is reached directly and admits this group; an internet-facing
    // one through the NAT gateways, as its DNS name resolves to public addresses.
    lb.securityGroup.connections.allowFrom(securityGroup, previewPort, 'greenlight smoke checks');
    natAddresses(props.vpc).forEach((address, i) =>
      lb.securityGroup.connections.allowFrom(ec2.Peer.ipv4(address), previewPort, `greenlight smoke checks through NAT gateway ${i + 1}`),
    );
    const keyPrefix = props.previewKeyParameterName ? parameterPath(props.previewKeyParameterName) : undefined;
    if (keyPrefix) {
      const keyArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${keyPrefix.slice(1)}*` });
      // GetParameter with decryption: the account's default SSM key lets the caller decrypt through SSM.
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadPreviewKeys', actions: ['ssm:GetParameter'], resources: [keyArn] }));
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagText(stack, keyArn)}]`,
        reason: "One preview key per release under the environment's own preview path; release ids are not known when the role is created.",
      });
    }

    const resultArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${prefix.slice(1)}*` });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'KeepSmokeResult', actions: ['ssm:PutParameter'], resources: [resultArn] }));
    // What AWSLambdaVPCAccessExecutionRole grants, inline: a function in a VPC manages its own network interfaces.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'NetworkInterfaces',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: "A function in a VPC manages its network interfaces, whose ids are not known in advance; this is AWSLambdaVPCAccessExecutionRole's own scope.",
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagText(stack, resultArn)}]`,
      reason: "One result parameter per release under the environment's own smoke path; release ids are not known when the role is created.",
    });

    const onEvent = new HandlerFunction(this, 'OnEvent', {
      entry: path.join(__dirname, '..', 'smoke', 'handler.ts'),
      handler: 'onEvent',
      description: 'greenlight smoke checks: requests each path through the preview route',
      role,
      logGroup,
      vpc: props.vpc,
      securityGroups: [securityGroup],
      // Paths are requested side by side, each within at most 60 s, with one retry on no answer.
      timeout: Duration.seconds(SMOKE_FUNCTION_TIMEOUT),
    });
    this.provider = new cr.Provider(this, 'Provider', { onEventHandler: onEvent.function });
    this.serviceTimeout = oneShotTimeout(onEvent.function);
    acknowledgeProviderFramework(this.provider, [onEvent.function]);
  }
}
