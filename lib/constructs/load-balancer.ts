import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct, type IDependable } from 'constructs';
import { ListenerCutover } from './cutover';

/**
 * What the release constructs need of an environment's load balancer: a `LoadBalancer`, or one
 * imported with `LoadBalancer.fromLoadBalancerAttributes`.
 */
export interface ILoadBalancer extends IConstruct {
  /** The application load balancer. */
  readonly alb: elbv2.IApplicationLoadBalancer;
  /** The listener users reach. */
  readonly listener: elbv2.IApplicationListener;
  /** The listener that carries each release's preview rule. */
  readonly previewListener: elbv2.IApplicationListener;
  /** The preview listener's protocol, for requests through it (the smoke checks). */
  readonly previewProtocol: 'http' | 'https';
  /** The preview listener's port. */
  readonly previewPort: number;
  /** The load balancer's security group. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The instances' security group: it admits the load balancer. */
  readonly instanceSecurityGroup: ec2.ISecurityGroup;
}

/** An existing load balancer and its two listeners, for `LoadBalancer.fromLoadBalancerAttributes`. */
export interface LoadBalancerAttributes {
  /** The load balancer's ARN. */
  readonly loadBalancerArn: string;
  /** The load balancer's DNS name; the smoke checks request it. */
  readonly loadBalancerDnsName: string;
  /** The load balancer's security group. */
  readonly securityGroupId: string;
  /** The ARN of the listener users reach. */
  readonly listenerArn: string;
  /** The ARN of the listener for preview rules; never the one users reach (see `LoadBalancer`). */
  readonly previewListenerArn: string;
  /** The preview listener's port. */
  readonly previewPort: number;
  /**
   * The preview listener's protocol.
   * @default 'http'
   */
  readonly previewProtocol?: 'http' | 'https';
  /** The security group of the instances, which admits the load balancer on `INSTANCE_PORT`. */
  readonly instanceSecurityGroupId: string;
  /**
   * The load balancer's VPC.
   * @default - unknown
   */
  readonly vpc?: ec2.IVpc;
}

export interface LoadBalancerProps {
  /** The VPC the load balancer and the instances' security group belong to. */
  readonly vpc: ec2.IVpc;
  /**
   * Where in the VPC the internet-facing load balancer runs.
   * @default - the VPC's public subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * ACM certificate for an HTTPS listener; HTTP then redirects to HTTPS.
   * @default - HTTP only
   */
  readonly certificateArn?: string;
  /**
   * Refuse to delete the load balancer.
   * @default false
   */
  readonly deletionProtection?: boolean;
  /**
   * Port of the preview listener, with the serving listener's protocol and certificate.
   * @default 8443 with a certificate, else 8080
   */
  readonly previewPort?: number;
  /**
   * IPv4 CIDRs that may reach the preview port, for people who look at a release before it goes
   * live. The smoke checks admit their own way in (`SmokeCheck`).
   * @default - none: the preview port is closed to the internet
   */
  readonly previewAllowedCidrs?: readonly string[];
}

/** Port the instances' nginx listens on. */
export const INSTANCE_PORT = 80;

/**
 * The environment's internet-facing ALB and its listeners. None of it depends on the release, so a
 * deploy never replaces it: the serving listener keeps its logical id and only its default action
 * moves from one release's target group to the next (see `serve`).
 *
 * Preview rules live on a listener of their own. A rule on the serving listener would have to
 * wait for that listener, which waits for the release's gate, while the gate needs the rule: a
 * target group is health-checked only once a listener or rule puts it behind the load balancer.
 * The preview listener never waits for a release, so it breaks that cycle, and exists before the
 * first release's gate.
 */
export class LoadBalancer extends Construct implements ILoadBalancer {
  /**
   * An existing load balancer with a serving and a preview listener, e.g. one an app already has.
   * Its listeners' default actions stay its owner's: use the release pieces (target group, fleet,
   * gate, smoke checks) with it, and a `ListenerCutover` only on a listener defined in this app.
   */
  static fromLoadBalancerAttributes(scope: Construct, id: string, attrs: LoadBalancerAttributes): ILoadBalancer {
    return importLoadBalancer(scope, id, attrs);
  }

  /** The application load balancer. */
  readonly alb: elbv2.ApplicationLoadBalancer;
  /** The listener users reach: HTTPS when a certificate is given, else HTTP. */
  readonly listener: elbv2.ApplicationListener;
  /** The listener that carries each release's preview rule; it answers 404 to anything else. */
  readonly previewListener: elbv2.ApplicationListener;
  /** The preview listener's protocol, for requests through it (the smoke checks). */
  readonly previewProtocol: 'http' | 'https';
  /** The preview listener's port. */
  readonly previewPort: number;
  /** The serving listener's port: 443 with a certificate, else 80. */
  readonly servingPort: number;
  /** The load balancer's security group; it admits the listeners' ports from anywhere. */
  readonly securityGroup: ec2.SecurityGroup;
  /** The instances' security group: it admits only the load balancer. */
  readonly instanceSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    validatePreviewPort(props.previewPort);
    validateCidrs(props.previewAllowedCidrs ?? []);

    const albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', {
      vpc: props.vpc,
      description: 'Load balancer: public HTTP(S) in, instances out',
      allowAllOutbound: false,
    });
    Validations.of(albSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'An internet-facing load balancer admits HTTP(S) from anywhere on its serving ports; only it can reach the instances.',
    });
    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: 'Release instances: HTTP from the load balancer only',
      allowAllOutbound: true,
    });
    this.instanceSecurityGroup.connections.allowFrom(albSecurityGroup, ec2.Port.tcp(INSTANCE_PORT), 'HTTP from the load balancer');

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs support SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds the load balancer access logs; logging its own access would only log the log writes.',
    });

    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
      securityGroup: albSecurityGroup,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection ?? false,
    });
    this.alb.logAccessLogs(accessLogs, 'alb');
    this.securityGroup = albSecurityGroup;

    // Until a release's gate passes there is nothing to forward to; `serve` replaces this action.
    const nothingLive = elbv2.ListenerAction.fixedResponse(503, { contentType: 'text/plain', messageBody: 'no release is live yet' });
    const noSuchRelease = elbv2.ListenerAction.fixedResponse(404, {
      contentType: 'text/plain',
      // Says nothing of how a preview is asked for.
      messageBody: 'not found',
    });
    this.servingPort = props.certificateArn ? 443 : 80;
    if (props.certificateArn) {
      const certificates = [acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)];
      this.listener = this.alb.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates,
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultAction: nothingLive,
      });
      this.alb.addRedirect({ sourcePort: 80, targetPort: 443 });
      [this.previewProtocol, this.previewPort] = ['https', props.previewPort ?? 8443];
      this.previewListener = this.alb.addListener('Preview', {
        port: this.previewPort,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates,
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultAction: noSuchRelease,
        // Closed: cdk would open a listener to 0.0.0.0/0.
        open: false,
      });
    } else {
      this.listener = this.alb.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: nothingLive,
      });
      [this.previewProtocol, this.previewPort] = ['http', props.previewPort ?? 8080];
      this.previewListener = this.alb.addListener('Preview', {
        port: this.previewPort,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: noSuchRelease,
        open: false,
      });
    }
    for (const cidr of props.previewAllowedCidrs ?? []) {
      this.previewListener.connections.allowDefaultPortFrom(ec2.Peer.ipv4(cidr), 'greenlight preview: preview.allowedCidrs');
    }
  }

  /**
   * The cutover of the serving listener to `targetGroup` after every resource in `after` (see
   * `ListenerCutover`). A load balancer serves one release, so this is called once.
   */
  serve(targetGroup: elbv2.IApplicationTargetGroup, after: readonly IDependable[]): ListenerCutover {
    return new ListenerCutover(this, 'Cutover', { listener: this.listener, targetGroup, after });
  }
}

function validatePreviewPort(port: number | undefined): void {
  if (port !== undefined && !Token.isUnresolved(port) && !(Number.isInteger(port) && port >= 1 && port <= 65535 && port !== 80 && port !== 443)) {
    throw new Error(`previewPort: ${port} must be a port from 1 to 65535 other than the serving listener's 80 and 443`);
  }
}

function validateCidrs(cidrs: readonly string[]): void {
  for (const cidr of cidrs) {
    if (Token.isUnresolved(cidr)) continue;
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32 || cidr === '0.0.0.0/0') {
      throw new Error(`previewAllowedCidrs: "${cidr}" must be an IPv4 CIDR such as "203.0.113.0/24", and not 0.0.0.0/0`);
    }
  }
}

function importLoadBalancer(scope: Construct, id: string, attrs: LoadBalancerAttributes): ILoadBalancer {
  validatePreviewPort(attrs.previewPort);
  const imported = new Construct(scope, id);
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(imported, 'SecurityGroup', attrs.securityGroupId);
  const listener = (listenerId: string, listenerArn: string) =>
    elbv2.ApplicationListener.fromApplicationListenerAttributes(imported, listenerId, { listenerArn, securityGroup });
  return Object.assign(imported, {
    alb: elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(imported, 'Alb', {
      loadBalancerArn: attrs.loadBalancerArn,
      loadBalancerDnsName: attrs.loadBalancerDnsName,
      securityGroupId: attrs.securityGroupId,
      vpc: attrs.vpc,
    }),
    listener: listener('Listener', attrs.listenerArn),
    previewListener: listener('PreviewListener', attrs.previewListenerArn),
    previewProtocol: attrs.previewProtocol ?? 'http',
    previewPort: attrs.previewPort,
    securityGroup,
    instanceSecurityGroup: ec2.SecurityGroup.fromSecurityGroupId(imported, 'InstanceSecurityGroup', attrs.instanceSecurityGroupId),
  });
}
