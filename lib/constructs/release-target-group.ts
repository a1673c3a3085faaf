import { Duration, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { INSTANCE_PORT } from './load-balancer';

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

export interface ReleaseTargetGroupProps {
  readonly vpc: ec2.IVpc;
  /** The release whose instances join this group; its id is the preview header's value. */
  readonly release: string;
  readonly healthCheck: TargetHealthCheck;
  /**
   * How long a deregistered target keeps serving its in-flight requests.
   * @default Duration.seconds(300)
   */
  readonly deregistrationDelay?: Duration;
  /** The preview listener, which gets the preview rule (never the serving listener: see LoadBalancer). */
  readonly listener: elbv2.IApplicationListener;
  /**
   * The header whose value, the release id, routes a request to this release before the cutover.
   * @default 'X-Greenlight-Release'
   */
  readonly previewHeader?: string;
  /** The preview rule's priority: unique on the listener, so chosen at deploy time (a token). */
  readonly previewPriority: number;
}

/**
 * One release's target group and its preview route. Give it a construct id derived from the
 * release: every release gets a new group, which only its own instances join, and the listener's
 * default action reaches it only at the cutover. Until then the one way in is a request carrying
 * the preview header with the release id.
 */
export class ReleaseTargetGroup extends Construct {
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly previewRule: elbv2.ApplicationListenerRule;

  constructor(scope: Construct, id: string, props: ReleaseTargetGroupProps) {
    super(scope, id);
    validateHealthCheck(props.healthCheck);
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
    // The rule also associates the group with the load balancer, so its health checks run (and
    // the gate can pass) before any user request can reach it.
    this.previewRule = new elbv2.ApplicationListenerRule(this, 'PreviewRule', {
      listener: props.listener,
      priority: props.previewPriority,
      conditions: [elbv2.ListenerCondition.httpHeader(props.previewHeader ?? 'X-Greenlight-Release', [props.release])],
      action: elbv2.ListenerAction.forward([this.targetGroup]),
    });
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
