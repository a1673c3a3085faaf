import * as path from 'node:path';
import { ArnFormat, CustomResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import { BAKE_GIVE_UP_MS } from '../bake/evaluate';
import type { BakeResourceProperties } from '../bake/properties';
import { customResourceRole, HandlerFunction } from './handler-function';
import { nagText } from './health-gate';
import { acknowledgeProviderFramework } from './provider-framework';

/** The Provider framework gives up after two hours. */
const PROVIDER_LIMIT = Duration.hours(2);

export interface BakeWindowProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The release's target group, which the listener now serves. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly release: string;
  /** How long the release must serve every user without a breach (60 s – 1 h). */
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
   * @default Duration.minutes(3)
   */
  readonly settle?: Duration;
  /**
   * Time between polls.
   * @default Duration.seconds(30)
   */
  readonly pollInterval?: Duration;
  /** Where the bake keeps its progress, `/greenlight/<app>/<env>/bake/<release>`. */
  readonly progressParameterName: string;
  /** What must complete first: the cutover (the serving listener). */
  readonly after: IDependable;
}

/**
 * After the cutover, watches the release's target group: its 5xx share and count from the load
 * balancer's metrics, its unhealthy hosts, and the named alarms. A breach fails the resource, and
 * CloudFormation's rollback points the listener back at the previous release's target group,
 * whose group is still running. Give it a construct id derived from the release.
 */
export class BakeWindow extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: BakeWindowProps) {
    super(scope, id);
    const settle = props.settle ?? Duration.minutes(3);
    const pollInterval = props.pollInterval ?? Duration.seconds(30);
    const alarms = props.alarms ?? [];
    validate(props, settle);
    const prefix = props.progressParameterName.slice(0, props.progressParameterName.lastIndexOf('/') + 1);
    const provider = BakeProvider.of(this, { progressPrefix: prefix, alarms, pollInterval, longest: props.duration.plus(settle) });
    const properties: BakeResourceProperties = {
      Release: props.release,
      LoadBalancer: props.loadBalancer.loadBalancerFullName,
      TargetGroup: props.targetGroup.targetGroupFullName,
      TargetGroupArn: props.targetGroup.targetGroupArn,
      DurationSeconds: props.duration.toSeconds(),
      SettleSeconds: settle.toSeconds(),
      MaxErrorRate: props.maxErrorRate ?? 1,
      MaxErrors: props.maxErrors ?? 0,
      Alarms: [...alarms],
      ProgressParameter: props.progressParameterName,
    };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.provider.serviceToken,
      resourceType: 'Custom::BakeWindow',
      properties: { ...properties },
    });
    this.resource.node.addDependency(props.after);
  }
}

function validate(props: BakeWindowProps, settle: Duration): void {
  if (!props.duration.isUnresolved() && (props.duration.toSeconds() < 60 || props.duration.toSeconds() > 3600)) {
    throw new Error(`duration: ${props.duration.toSeconds()}s must be between 60 and 3600 seconds`);
  }
  if (!settle.isUnresolved() && settle.toSeconds() > 900) {
    throw new Error(`settle: ${settle.toSeconds()}s must be at most 900 seconds`);
  }
  const rate = props.maxErrorRate;
  if (rate !== undefined && !Token.isUnresolved(rate) && !(rate >= 0 && rate <= 100)) {
    throw new Error(`maxErrorRate: ${rate} must be a percentage from 0 to 100`);
  }
  const errors = props.maxErrors;
  if (errors !== undefined && !Token.isUnresolved(errors) && !(Number.isInteger(errors) && errors >= 0)) {
    throw new Error(`maxErrors: ${errors} must be a whole number of at least 0`);
  }
  if (!props.progressParameterName.startsWith('/') || props.progressParameterName.endsWith('/')) {
    throw new Error(`progressParameterName: "${props.progressParameterName}" must be an absolute SSM parameter name`);
  }
}

interface BakeProviderProps {
  readonly progressPrefix: string;
  readonly alarms: readonly string[];
  readonly pollInterval: Duration;
  /** The longest a bake can watch: duration plus settle time. */
  readonly longest: Duration;
}

/** The stack's one bake Provider, shared by every release's bake. */
class BakeProvider extends Construct {
  static of(scope: Construct, props: BakeProviderProps): BakeProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild('BakeProvider') as BakeProvider | undefined;
    if (!existing) return new BakeProvider(stack, 'BakeProvider', props);
    const same =
      existing.props.progressPrefix === props.progressPrefix &&
      existing.props.alarms.join('\n') === props.alarms.join('\n') &&
      existing.props.pollInterval.toSeconds() === props.pollInterval.toSeconds() &&
      existing.props.longest.toSeconds() === props.longest.toSeconds();
    if (!same) {
      throw new Error(
        `BakeWindow: every bake of stack ${stack.stackName} shares one Provider, so the progress path, alarms, poll ` +
          `interval and duration must match; got ${props.progressPrefix} [${props.alarms.join(', ')}] after ` +
          `${existing.props.progressPrefix} [${existing.props.alarms.join(', ')}]`,
      );
    }
    return existing;
  }

  readonly provider: cr.Provider;

  private constructor(
    scope: Construct,
    id: string,
    private readonly props: BakeProviderProps,
  ) {
    super(scope, id);
    const stack = Stack.of(this);
    const { role, logGroup } = customResourceRole(this, 'Bake', "greenlight bake: reads the release target group's figures, keeps its progress");
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadFigures',
        actions: ['cloudwatch:GetMetricData', 'elasticloadbalancing:DescribeTargetHealth'],
        resources: ['*'],
      }),
    );
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
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'KeepBakeProgress', actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: [progressArn] }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'GetMetricData and DescribeTargetHealth support no resource-level permissions; they are read-only.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagText(stack, progressArn)}]`,
      reason: "One progress parameter per release under the environment's own bake path; release ids are not known when the role is created.",
    });

    const entry = path.join(__dirname, '..', 'bake', 'handler.ts');
    const onEvent = new HandlerFunction(this, 'OnEvent', { entry, handler: 'onEvent', description: 'greenlight bake: checks the bake properties', role, logGroup });
    const isComplete = new HandlerFunction(this, 'IsComplete', {
      entry,
      handler: 'isComplete',
      description: "greenlight bake: one poll of the release target group's figures",
      role,
      logGroup,
    });
    // The bake decides first (at its end, or when figures stay out of reach); the framework's limit is a backstop.
    const needed = props.longest.toSeconds() + BAKE_GIVE_UP_MS / 1000 + 600;
    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent.function,
      isCompleteHandler: isComplete.function,
      queryInterval: props.pollInterval,
      totalTimeout: Duration.seconds(Math.min(PROVIDER_LIMIT.toSeconds(), needed)),
    });
    acknowledgeProviderFramework(this.provider, [onEvent.function, isComplete.function]);
  }
}
