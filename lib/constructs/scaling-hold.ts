import * as path from 'node:path';
import { ArnFormat, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import type { HoldResourceProperties } from '../scaling-hold/handler';
import { customResourceRole, HandlerFunction } from './handler-function';
import { acknowledgeProviderFramework, oneShotTimeout, sharedBySettings, validateLiveParameterName } from './provider-framework';

export interface OutgoingScalingHoldProps {
  /** The release being deployed; the hold's construct id should derive from it. */
  readonly release: string;
  /**
   * `/greenlight/<app>/<env>/live-release`: names the outgoing release until the pointer moves.
   * Make the pointer depend on the hold.
   */
  readonly liveReleaseParameterName: string;
  /** What must complete first (the gate, the smoke checks): the hold comes right before the cutover. */
  readonly after: readonly IDependable[];
  /**
   * Leave the outgoing group's scheduled actions running: it stays as the standby, and its one-time
   * scale-to-zero must run.
   * @default false
   */
  readonly keepScheduledActions?: boolean;
}

/**
 * Keeps the outgoing release's group at its size from the cutover until CloudFormation deletes it:
 * suspends its AlarmNotification and ScheduledActions processes, so neither its scaling policies
 * (which would read the idle metrics that follow the cutover) nor its scheduled actions resize it
 * while it drains and while the bake may still send users back to it. A rollback of the deploy
 * deletes the hold, which resumes them.
 *
 * The outgoing group is not in the new template, so this is a custom resource. Make the cutover
 * depend on it (`ListenerCutoverProps.after`). Give it a construct id derived from the release.
 * The hold may suspend and resume the processes of this stack's groups only.
 */
export class OutgoingScalingHold extends Construct {
  /** The `Custom::ScalingHold` resource. */
  readonly customResource: CustomResource;

  constructor(scope: Construct, id: string, props: OutgoingScalingHoldProps) {
    super(scope, id);
    validateLiveParameterName(props.liveReleaseParameterName);
    const provider = ScalingHoldProvider.of(this, props.liveReleaseParameterName);
    const properties: HoldResourceProperties & { readonly Release: string } = {
      LiveReleaseParameter: props.liveReleaseParameterName,
      StackName: Stack.of(this).stackName,
      Release: props.release,
      ...(props.keepScheduledActions ? { Processes: ['AlarmNotification'] } : {}),
    };
    this.customResource = new CustomResource(this, 'Resource', {
      serviceToken: provider.provider.serviceToken,
      resourceType: 'Custom::ScalingHold',
      serviceTimeout: provider.serviceTimeout,
      properties: { ...properties },
    });
    for (const dependency of props.after) this.customResource.node.addDependency(dependency);
  }
}

/** A hold Provider, shared by the stack's holds of one live pointer, which its role may read. */
class ScalingHoldProvider extends Construct {
  static of(scope: Construct, parameterName: string): ScalingHoldProvider {
    return sharedBySettings(scope, 'ScalingHoldProvider', { parameterName }, (stack, id) => new ScalingHoldProvider(stack, id, parameterName));
  }

  readonly provider: cr.Provider;
  /** The custom resource's ServiceTimeout: the handler's own time limit and a margin. */
  readonly serviceTimeout: Duration;

  private constructor(scope: Construct, id: string, parameterName: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const { role, logGroup } = customResourceRole(this, 'Hold', "greenlight scaling hold: keeps the outgoing fleet's size");
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadLiveRelease',
        actions: ['ssm:GetParameter'],
        resources: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: parameterName.slice(1) })],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DescribeGroups', actions: ['autoscaling:DescribeAutoScalingGroups'], resources: ['*'] }),
    );
    // CloudFormation names a stack's groups `<stack>-<logical id>-<suffix>`: only this stack's.
    const stackGroups = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${stack.stackName}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'HoldThisStacksGroups',
        actions: ['autoscaling:SuspendProcesses', 'autoscaling:ResumeProcesses'],
        resources: [stackGroups],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'DescribeAutoScalingGroups supports no resource-level permissions; it is read-only.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${stackGroups}]`,
      reason: "Group names are generated by CloudFormation; the stack's name prefix limits the hold to this stack's groups.",
    });
    const onEvent = new HandlerFunction(this, 'OnEvent', {
      entry: path.join(__dirname, '..', 'scaling-hold', 'handler.ts'),
      handler: 'onEvent',
      description: "greenlight scaling hold: suspends the outgoing fleet's scaling at the cutover",
      role,
      logGroup,
    });
    this.provider = new cr.Provider(this, 'Provider', { onEventHandler: onEvent.function });
    this.serviceTimeout = oneShotTimeout(onEvent.function);
    acknowledgeProviderFramework(this.provider, [onEvent.function]);
  }
}
