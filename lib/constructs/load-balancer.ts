import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** The target group's health check. Every release's instances must pass it before they take traffic. */
export interface TargetHealthCheck {
  /** Path of the readiness endpoint; a redirect from it is a failure. */
  readonly path: string;
  /** Time between checks (5–300 s). */
  readonly interval: Duration;
  /** Time to wait for an answer (2–120 s, shorter than the interval). */
  readonly timeout: Duration;
  /** Consecutive passes before a target is healthy (2–10). */
  readonly healthyThreshold: number;
  /** Consecutive failures before a target is unhealthy (2–10). */
  readonly unhealthyThreshold: number;
  /** HTTP codes that pass, e.g. "200" (200–499). */
  readonly matcher: string;
}

export interface LoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly healthCheck: TargetHealthCheck;
  /**
   * How long a deregistered target keeps serving its in-flight requests.
   * @default Duration.seconds(300)
   */
  readonly deregistrationDelay?: Duration;
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
}

/** Port the instances' nginx listens on. */
export const INSTANCE_PORT = 80;

/**
 * The environment's internet-facing ALB, its listeners and the target group every release joins.
 * None of it depends on the release, so a deploy never replaces it.
 */
export class LoadBalancer extends Construct {
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The instances' security group: it admits only the load balancer. */
  readonly instanceSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    validateHealthCheck(props.healthCheck);

    const albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', {
      vpc: props.vpc,
      description: 'Load balancer: public HTTP(S) in, instances out',
      allowAllOutbound: false,
    });
    Validations.of(albSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'An internet-facing load balancer admits HTTP(S) from anywhere; only it can reach the instances.',
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
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection ?? false,
    });
    this.alb.logAccessLogs(accessLogs, 'alb');

    const hc = props.healthCheck;
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      port: INSTANCE_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(300),
      healthCheck: {
        protocol: elbv2.Protocol.HTTP,
        path: hc.path,
        interval: hc.interval,
        timeout: hc.timeout,
        healthyThresholdCount: hc.healthyThreshold,
        unhealthyThresholdCount: hc.unhealthyThreshold,
        healthyHttpCodes: hc.matcher,
      },
    });

    if (props.certificateArn) {
      this.alb.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        defaultTargetGroups: [this.targetGroup],
      });
      this.alb.addRedirect({ sourcePort: 80, targetPort: 443 });
    } else {
      this.alb.addListener('Http', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultTargetGroups: [this.targetGroup],
      });
    }
  }
}

function validateHealthCheck(hc: TargetHealthCheck): void {
  const interval = hc.interval.isUnresolved() ? undefined : hc.interval.toSeconds();
  const timeout = hc.timeout.isUnresolved() ? undefined : hc.timeout.toSeconds();
  if (interval !== undefined && timeout !== undefined && timeout >= interval) {
    throw new Error(`healthCheck.timeout: ${timeout}s must be shorter than interval ${interval}s`);
  }
  for (const [field, value] of [
    ['healthyThreshold', hc.healthyThreshold],
    ['unhealthyThreshold', hc.unhealthyThreshold],
  ] as const) {
    if (!Token.isUnresolved(value) && (value < 2 || value > 10)) {
      throw new Error(`healthCheck.${field}: ${value} is out of range; allowed 2–10`);
    }
  }
}
