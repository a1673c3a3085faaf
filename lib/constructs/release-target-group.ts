import { Duration, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { PREVIEW_DEFAULTS } from '../config/schema';
import { NO_SOURCE } from '../preview/key';
import { INSTANCE_PORT } from './load-balancer';

/** The target group's health check. Every release's instances must pass it before they take traffic. */
export interface TargetHealthCheck {
  /** Path of the readiness endpoint, e.g. `/healthz`; a redirect from it is a failure. */
  readonly path: string;
  /** Time between checks (5–300 s). */
  readonly interval: Duration;
  /** Time to wait for an answer (2–120 s, shorter than the interval). */
  readonly timeout: Duration;
  /** Consecutive passes before a target is healthy (2–10). */
  readonly healthyThreshold: number;
  /** Consecutive failures before a target is unhealthy (2–10). */
  readonly unhealthyThreshold: number;
  /** HTTP codes that pass, e.g. `200` or `200-299` (200–499). */
  readonly matcher: string;
}

export interface ReleaseTargetGroupProps {
  /** The VPC of the release's instances. */
  readonly vpc: ec2.IVpc;
  /** The release whose instances join this group; its id is the preview header's value. */
  readonly release: string;
  /** The health check every instance must pass before it takes traffic. */
  readonly healthCheck: TargetHealthCheck;
  /**
   * How long a deregistered target keeps serving its in-flight requests (0–3600 s).
   * @default Duration.seconds(300)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * The port the instances serve HTTP on.
   * @default INSTANCE_PORT (80)
   */
  readonly port?: number;
  /**
   * The preview listener, which gets the preview rule. Never the serving listener: the cutover
   * makes that listener wait for the release's gate, which waits for this rule (see `ListenerCutover`).
   */
  readonly listener: elbv2.IApplicationListener;
  /**
   * The header whose value, the release id, routes a request to this release before the cutover.
   * @default 'X-Greenlight-Release'
   */
  readonly previewHeader?: string;
  /**
   * The preview rule's priority (1–50000), unique on the listener. Releases overlap during a
   * deploy, so a fixed number collides with the previous release's rule: pass the capacity
   * probe's `previewPriority`, chosen at deploy time.
   */
  readonly previewPriority: number;
  /**
   * Whether the preview rule waits for a key (`PreviewKey`): created matching no request, it
   * forwards only once the key is written into it. `false` makes the header alone enough, for
   * a preview listener that only trusted clients reach.
   * @default true
   */
  readonly previewKeyed?: boolean;
}

/**
 * One release's target group and its preview route. Give it a construct id derived from the
 * release: every release gets a new group, which only its own instances join, and the listener's
 * default action reaches it only at the cutover. Until then the one way in is a request carrying
 * the preview header with the release id and, once a `PreviewKey` has keyed the rule, the
 * release's preview key.
 */
export class ReleaseTargetGroup extends Construct {
  /** The release's target group; only the release's own fleet joins it. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The preview listener's rule that forwards requests carrying the preview header. */
  readonly previewRule: elbv2.ApplicationListenerRule;

  constructor(scope: Construct, id: string, props: ReleaseTargetGroupProps) {
    super(scope, id);
    validateHealthCheck(props.healthCheck);
    validate(props);
    const hc = props.healthCheck;
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      port: props.port ?? INSTANCE_PORT,
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
    const releaseHeader = elbv2.ListenerCondition.httpHeader(props.previewHeader ?? PREVIEW_DEFAULTS.header, [props.release]);
    this.previewRule = new elbv2.ApplicationListenerRule(this, 'PreviewRule', {
      listener: props.listener,
      priority: props.previewPriority,
      // The key is in no template: the rule is created matching no request, and the PreviewKey
      // resource writes the key into it. A stack update that rewrote the conditions would close it again.
      conditions: props.previewKeyed === false ? [releaseHeader] : [releaseHeader, elbv2.ListenerCondition.sourceIps([NO_SOURCE])],
      action: elbv2.ListenerAction.forward([this.targetGroup]),
    });
  }
}

function validate(props: ReleaseTargetGroupProps): void {
  const priority = props.previewPriority;
  if (!Token.isUnresolved(priority) && !(Number.isInteger(priority) && priority >= 1 && priority <= 50000)) {
    throw new Error(`previewPriority: ${priority} must be a whole number from 1 to 50000`);
  }
  const port = props.port;
  if (port !== undefined && !Token.isUnresolved(port) && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    throw new Error(`port: ${port} must be a port from 1 to 65535`);
  }
  const delay = props.deregistrationDelay;
  if (delay !== undefined && !delay.isUnresolved() && delay.toSeconds() > 3600) {
    throw new Error(`deregistrationDelay: ${delay.toSeconds()}s must be at most 3600 seconds`);
  }
}

function validateHealthCheck(hc: TargetHealthCheck): void {
  if (!Token.isUnresolved(hc.path) && !hc.path.startsWith('/')) {
    throw new Error(`healthCheck.path: "${hc.path}" must be an absolute path such as "/healthz"`);
  }
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
