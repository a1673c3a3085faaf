import * as path from 'node:path';
import { ArnFormat, CustomResource, Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import type { BakeResourceProperties } from '../bake/properties';
import { customResourceRole } from './handler-function';
import { nagText } from './health-gate';
import { BAKE_TIMING, bakeLongestRun, maxBakeDuration } from '../time-limits';
import { parameterPath, pollingProvider, pollingTimeouts, sharedBySettings, validateParameterName } from './provider-framework';

export interface BakeWindowProps {
  /** The load balancer whose metrics the bake reads; may be imported. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The release's target group (`ReleaseTargetGroup.targetGroup`), which the listener now serves. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The release being baked; its records and log lines name it. */
  readonly release: string;
  /**
   * How long the release must serve every user without a breach: from 60 s to what CloudFormation's
   * one-hour limit on a custom resource leaves after the settle time, the give-up time, one poll and
   * the report (2970 s with the defaults).
   */
  readonly duration: Duration;
  /**
   * The 5xx share, in percent, above which the bake fails.
   * @default 1
   */
  readonly maxErrorRate?: number;
  /**
   * 5xx answers tolerated whatever their share.
   * @default 0
   */
  readonly maxErrors?: number;
  /**
   * Names of existing CloudWatch alarms; any in ALARM fails the bake.
   * @default []
   */
  readonly alarms?: readonly string[];
  /**
   * Time to keep watching after the duration for the load balancer's late metrics.
   * @default Duration.seconds(180)
   */
  readonly settle?: Duration;
  /**
   * Time between polls.
   * @default Duration.seconds(30)
   */
  readonly pollInterval?: Duration;
  /**
   * Where the bake keeps its progress, `/greenlight/<app>/<env>/bake/<release>`. A literal: the
   * shared Provider's role may write under its parent path.
   */
  readonly progressParameterName: string;
  /** What must complete first: the cutover (a `ListenerCutover`). */
  readonly after: IDependable;
}

/**
 * After the cutover, watches the release's target group: its 5xx share and count from the load
 * balancer's metrics, its unhealthy hosts, and the named alarms. A breach fails the resource, and
 * CloudFormation's rollback points the listener back at the previous release's target group,
 * whose group is still running. Give it a construct id derived from the release, and make the
 * live pointer depend on it.
 *
 * Bakes with the same progress path, alarms, poll interval and longest watch share one Provider;
 * others get a Provider of their own.
 */
export class BakeWindow extends Construct {
  /** The `Custom::BakeWindow` resource; it completes when the window passes without a breach. */
  readonly customResource: CustomResource;

  constructor(scope: Construct, id: string, props: BakeWindowProps) {
    super(scope, id);
    const settle = props.settle ?? Duration.seconds(BAKE_TIMING.settle);
    const pollInterval = props.pollInterval ?? Duration.seconds(BAKE_TIMING.pollInterval);
    const alarms = props.alarms ?? [];
    validate(props, settle, pollInterval);
    const prefix = parameterPath(props.progressParameterName);
    const longest = Duration.seconds(bakeLongestRun(props.duration.toSeconds(), settle.toSeconds()));
    const timeouts = pollingTimeouts('BakeWindow', longest, pollInterval);
    const provider = BakeProvider.of(this, { progressPrefix: prefix, alarms, pollInterval, totalTimeout: timeouts.totalTimeout });
    const properties: BakeResourceProperties = {
      Release: props.release,
      LoadBalancer: loadBalancerFullName(props.loadBalancer),
      TargetGroup: props.targetGroup.targetGroupFullName,
      TargetGroupArn: props.targetGroup.targetGroupArn,
      DurationSeconds: props.duration.toSeconds(),
      SettleSeconds: settle.toSeconds(),
      MaxErrorRate: props.maxErrorRate ?? 1,
      MaxErrors: props.maxErrors ?? 0,
      Alarms: [...alarms],
      ProgressParameter: props.progressParameterName,
    };
    this.customResource = new CustomResource(this, 'Resource', {
      serviceToken: provider.provider.serviceToken,
      resourceType: 'Custom::BakeWindow',
      // CloudFormation gives up shortly after the bake would have decided, even when figures stay out of reach.
      serviceTimeout: timeouts.serviceTimeout,
      properties: { ...properties },
    });
    this.customResource.node.addDependency(props.after);
  }
}

function validate(props: BakeWindowProps, settle: Duration, pollInterval: Duration): void {
  if (!settle.isUnresolved() && settle.toSeconds() > 900) {
    throw new Error(`settle: ${settle.toSeconds()}s must be at most 900 seconds`);
  }
  if (!pollInterval.isUnresolved() && (pollInterval.toSeconds() < 10 || pollInterval.toSeconds() > 300)) {
    throw new Error(`pollInterval: ${pollInterval.toSeconds()}s must be between 10 and 300 seconds`);
  }
  if ([props.duration, settle, pollInterval].some((d) => d.isUnresolved())) {
    throw new Error('duration, settle and pollInterval must be known at synth: they fix the bake\'s time limits');
  }
  const max = maxBakeDuration(settle.toSeconds(), pollInterval.toSeconds());
  const duration = props.duration.toSeconds();
  if (duration < 60 || duration > max) {
    throw new Error(
      `duration: ${duration}s must be between 60 and ${max} seconds: CloudFormation waits at most an hour for the bake, ` +
        `which also needs the settle time (${settle.toSeconds()}s), ${BAKE_TIMING.giveUp}s to give up on missing figures, one poll and the report`,
    );
  }
  const rate = props.maxErrorRate;
  if (rate !== undefined && !Token.isUnresolved(rate) && !(rate >= 0 && rate <= 100)) {
    throw new Error(`maxErrorRate: ${rate} must be a percentage from 0 to 100`);
  }
  const errors = props.maxErrors;
  if (errors !== undefined && !Token.isUnresolved(errors) && !(Number.isInteger(errors) && errors >= 0)) {
    throw new Error(`maxErrors: ${errors} must be a whole number of at least 0`);
  }
  validateParameterName('progressParameterName', props.progressParameterName);
}

/** `app/<name>/<id>`, as CloudWatch names a load balancer: its own attribute, or the tail of an imported one's ARN. */
export function loadBalancerFullName(lb: elbv2.IApplicationLoadBalancer): string {
  if (lb instanceof elbv2.ApplicationLoadBalancer) return lb.loadBalancerFullName;
  const parts = Fn.split('/', lb.loadBalancerArn);
  return Fn.join('/', [Fn.select(1, parts), Fn.select(2, parts), Fn.select(3, parts)]);
}

interface BakeProviderProps {
  readonly progressPrefix: string;
  readonly alarms: readonly string[];
  readonly pollInterval: Duration;
  /** The framework's limit, in whole poll intervals (`pollingTimeouts`). */
  readonly totalTimeout: Duration;
}

/** A bake Provider, shared by the stack's bakes that agree on its settings. */
class BakeProvider extends Construct {
  static of(scope: Construct, props: BakeProviderProps): BakeProvider {
    const settings = {
      progressPrefix: props.progressPrefix,
      alarms: props.alarms,
      pollInterval: props.pollInterval.toSeconds(),
      totalTimeout: props.totalTimeout.toSeconds(),
    };
    return sharedBySettings(scope, 'BakeProvider', settings, (stack, id) => new BakeProvider(stack, id, props));
  }

  readonly provider: cr.Provider;

  private constructor(scope: Construct, id: string, props: BakeProviderProps) {
    super(scope, id);
    const { role, logGroup } = customResourceRole(this, 'Bake', "greenlight bake: reads the release target group's figures, keeps its progress");
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadFigures',
        actions: ['cloudwatch:GetMetricData', 'elasticloadbalancing:DescribeTargetHealth'],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'GetMetricData and DescribeTargetHealth support no resource-level permissions; they are read-only.',
    });
    grantAlarmsAndProgress(role, { alarms: props.alarms, progressPrefix: props.progressPrefix, sid: 'KeepBakeProgress', phase: 'bake' });

    // The bake decides first (at its end, or when figures stay out of reach); the framework's limit is a backstop.
    this.provider = pollingProvider(this, {
      entry: path.join(__dirname, '..', 'bake', 'handler.ts'),
      role,
      logGroup,
      onEventDescription: 'greenlight bake: checks the bake properties',
      isCompleteDescription: "greenlight bake: one poll of the release target group's figures",
      pollInterval: props.pollInterval,
      totalTimeout: props.totalTimeout,
    });
  }
}

/**
 * Grants a watching phase's role what the bake and the traffic steps share: DescribeAlarms on the
 * named alarms, and reading and writing its progress parameters under `progressPrefix`.
 */
export function grantAlarmsAndProgress(
  role: iam.Role,
  props: { readonly alarms: readonly string[]; readonly progressPrefix: string; readonly sid: string; readonly phase: string },
): void {
  const stack = Stack.of(role);
  if (props.alarms.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadNamedAlarms',
        actions: ['cloudwatch:DescribeAlarms'],
        resources: props.alarms.map((name) =>
          stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        ),
      }),
    );
  }
  const progressArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${props.progressPrefix.slice(1)}*` });
  role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: props.sid, actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: [progressArn] }));
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${nagText(stack, progressArn)}]`,
    reason: `One progress parameter per release under the environment's own ${props.phase} path; release ids are not known when the role is created.`,
  });
}
