import * as path from 'node:path';
import { CustomResource, Duration, Fn, Stack, Validations } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import type { TrafficResourceProperties } from '../traffic/properties';
import { TRAFFIC_TIMING, trafficLongestRun } from '../time-limits';
import { type BakeWindowProps, grantAlarmsAndProgress } from './bake-window';
import { customResourceRole } from './handler-function';
import { nagText } from './health-gate';
import { parameterPath, pollingProvider, pollingTimeouts, sharedBySettings, validateParameterName } from './provider-framework';

/**
 * The bake's absolute limits and alarms (`maxErrorRate`, `maxErrors`, `alarms`) apply in every step;
 * `settle` is the time each step keeps reading after its duration, `pollInterval` the time between polls.
 */
export interface TrafficStepsProps extends Pick<BakeWindowProps, 'maxErrorRate' | 'maxErrors' | 'alarms' | 'settle' | 'pollInterval'> {
  /** The load balancer whose serving listener the steps weight; defined in this app. */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The serving listener's port: the step resource finds the listener by it at deploy time. */
  readonly listenerPort: number;
  /** The new release's target group. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The release whose steps these are; its records and log lines name it. */
  readonly release: string;
  /** The new release's percentages before 100, ascending, each 1–99. */
  readonly steps: readonly number[];
  /** How long each step lasts before it is judged (at least a minute: the metrics' period). */
  readonly stepDuration: Duration;
  /**
   * Target-group stickiness of the weighted forward, so a user stays on one release during the steps.
   * @default - none: each request is weighted on its own
   */
  readonly stickiness?: Duration;
  /**
   * Percentage points by which the new release's 5xx share may exceed the live one's.
   * @default 1
   */
  readonly errorMargin?: number;
  /**
   * Confidence, in percent, that the share exceeds the margin before a step fails.
   * @default 99
   */
  readonly confidence?: number;
  /**
   * Requests each release must answer in a step before it is judged.
   * @default 100
   */
  readonly minRequests?: number;
  /**
   * The new p99 may be at most this many times the live one's, or `latencyFloorMs` above it.
   * @default 1.5
   */
  readonly latencyRatio?: number;
  /**
   * Milliseconds the new p99 may exceed the live one's whatever the ratio.
   * @default 100
   */
  readonly latencyFloorMs?: number;
  /**
   * How long a step with too few requests may be extended.
   * @default Duration.minutes(5)
   */
  readonly maxExtension?: Duration;
  /**
   * What a step that still has too few requests after its extension does.
   * @default 'fail'
   */
  readonly onTooFewRequests?: 'fail' | 'pass';
  /** Where the steps keep their progress, `/greenlight/<app>/<env>/traffic/<release>`; a literal. */
  readonly progressParameterName: string;
  /** What must complete first: the gate, the smoke checks, the outgoing fleet's scaling hold. */
  readonly after: readonly IDependable[];
}

/**
 * Progressive traffic before the cutover: sets the serving listener's default action to a weighted
 * forward between the live release's target group and the new one, one step at a time, and judges
 * each step against the live release from CloudWatch (5xx shares and p99 over the same minutes)
 * and by the bake's absolute limits. On a failure it puts every request back on the live release
 * before it fails. Make the cutover depend on it; give it a construct id derived from the release.
 *
 * Its role may change only this load balancer's listeners: the serving listener's own ARN cannot
 * be granted, as the listener waits for this resource (its update is the cutover). The handler
 * touches only the listener on `listenerPort`.
 */
export class TrafficSteps extends Construct {
  /** The `Custom::TrafficSteps` resource; it completes when the last step passes. */
  readonly customResource: CustomResource;

  constructor(scope: Construct, id: string, props: TrafficStepsProps) {
    super(scope, id);
    const settle = props.settle ?? Duration.seconds(TRAFFIC_TIMING.settle);
    const maxExtension = props.maxExtension ?? Duration.minutes(5);
    const pollInterval = props.pollInterval ?? Duration.seconds(TRAFFIC_TIMING.pollInterval);
    const alarms = props.alarms ?? [];
    validate(props);
    const longest = Duration.seconds(trafficLongestRun(props.steps.length, props.stepDuration.toSeconds(), maxExtension.toSeconds(), settle.toSeconds()));
    const timeouts = pollingTimeouts('TrafficSteps', longest, pollInterval);
    const provider = TrafficProvider.of(this, {
      progressPrefix: parameterPath(props.progressParameterName),
      alarms,
      pollInterval,
      totalTimeout: timeouts.totalTimeout,
      loadBalancer: props.loadBalancer,
    });
    const properties: TrafficResourceProperties = {
      Release: props.release,
      LoadBalancerArn: props.loadBalancer.loadBalancerArn,
      LoadBalancer: props.loadBalancer.loadBalancerFullName,
      ListenerPort: props.listenerPort,
      TargetGroupArn: props.targetGroup.targetGroupArn,
      TargetGroup: props.targetGroup.targetGroupFullName,
      Steps: [...props.steps],
      StepDurationSeconds: props.stepDuration.toSeconds(),
      SettleSeconds: settle.toSeconds(),
      MaxExtensionSeconds: maxExtension.toSeconds(),
      OnTooFewRequests: props.onTooFewRequests ?? 'fail',
      ErrorMargin: props.errorMargin ?? 1,
      Confidence: props.confidence ?? 99,
      MinRequests: props.minRequests ?? 100,
      LatencyRatio: props.latencyRatio ?? 1.5,
      LatencyFloorMs: props.latencyFloorMs ?? 100,
      MaxErrorRate: props.maxErrorRate ?? 1,
      MaxErrors: props.maxErrors ?? 0,
      Alarms: [...alarms],
      StickinessSeconds: props.stickiness?.toSeconds() ?? 0,
      ProgressParameter: props.progressParameterName,
    };
    this.customResource = new CustomResource(this, 'Resource', {
      serviceToken: provider.provider.serviceToken,
      resourceType: 'Custom::TrafficSteps',
      // CloudFormation gives up shortly after the steps would have decided, even when figures stay out of reach.
      serviceTimeout: timeouts.serviceTimeout,
      properties: { ...properties },
    });
    for (const dependency of props.after) this.customResource.node.addDependency(dependency);
  }
}

function validate(props: TrafficStepsProps): void {
  const steps = props.steps;
  if (steps.length === 0 || !steps.every((s, i) => Number.isInteger(s) && s >= 1 && s <= 99 && (i === 0 || s > steps[i - 1]))) {
    throw new Error(`steps: ${JSON.stringify(steps)} must be 1 or more ascending whole percentages from 1 to 99`);
  }
  if (!props.stepDuration.isUnresolved() && props.stepDuration.toSeconds() < 60) {
    throw new Error(`stepDuration: ${props.stepDuration.toSeconds()}s must be at least 60 seconds, the load balancer's metric period`);
  }
  const stickiness = props.stickiness?.toSeconds();
  if (stickiness !== undefined && !(stickiness >= 1 && stickiness <= 604_800)) {
    throw new Error(`stickiness: ${stickiness}s must be between 1 second and 7 days`);
  }
  validateParameterName('progressParameterName', props.progressParameterName);
}

interface TrafficProviderProps {
  readonly progressPrefix: string;
  readonly alarms: readonly string[];
  readonly pollInterval: Duration;
  /** The framework's limit, in whole poll intervals (`pollingTimeouts`). */
  readonly totalTimeout: Duration;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
}

/** A traffic Provider, shared by the stack's step resources that agree on its settings. */
class TrafficProvider extends Construct {
  static of(scope: Construct, props: TrafficProviderProps): TrafficProvider {
    const settings = {
      progressPrefix: props.progressPrefix,
      alarms: props.alarms,
      pollInterval: props.pollInterval.toSeconds(),
      totalTimeout: props.totalTimeout.toSeconds(),
      loadBalancer: props.loadBalancer.node.path,
    };
    return sharedBySettings(scope, 'TrafficProvider', settings, (stack, id) => new TrafficProvider(stack, id, props));
  }

  readonly provider: cr.Provider;

  private constructor(scope: Construct, id: string, props: TrafficProviderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { role, logGroup } = customResourceRole(this, 'Traffic', 'greenlight traffic: weights the serving listener between two releases, reads their figures');
    // `app/<name>/<id>` of the load balancer: its listeners' ARNs are `listener/app/<name>/<id>/<listener id>`.
    const listeners = stack.formatArn({
      service: 'elasticloadbalancing',
      resource: 'listener',
      resourceName: Fn.join('', [props.loadBalancer.loadBalancerFullName, '/*']),
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'WeightServingListener', actions: ['elasticloadbalancing:ModifyListener'], resources: [listeners] }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadFigures',
        actions: ['cloudwatch:GetMetricData', 'elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:DescribeListeners'],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'GetMetricData, DescribeTargetHealth and DescribeListeners support no resource-level permissions; they are read-only.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagText(stack, listeners)}]`,
      reason: "The serving listener waits for this resource, so its ARN cannot be named; the grant is this load balancer's listeners.",
    });
    grantAlarmsAndProgress(role, { alarms: props.alarms, progressPrefix: props.progressPrefix, sid: 'KeepTrafficProgress', phase: 'traffic' });

    this.provider = pollingProvider(this, {
      entry: path.join(__dirname, '..', 'traffic', 'handler.ts'),
      role,
      logGroup,
      onEventDescription: 'greenlight traffic: checks the step properties; on delete, undoes weights a cut-short run left',
      isCompleteDescription: 'greenlight traffic: one poll of a step, and the weights of the next',
      pollInterval: props.pollInterval,
      totalTimeout: props.totalTimeout,
    });
  }
}
