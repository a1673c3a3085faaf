import * as path from 'node:path';
import { CustomResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { ProbeResourceProperties } from '../capacity-probe/handler';
import { customResourceRole, HandlerFunction } from './handler-function';
import { acknowledgeProviderFramework, oneShotTimeout, sharedBySettings, validateLiveParameterName } from './provider-framework';

export interface CapacityProbeProps {
  /** The release being deployed; the probe's construct id should derive from it. */
  readonly release: string;
  /**
   * `/greenlight/<app>/<env>/live-release` (see `LiveReleasePointer`): names the release whose
   * group is live. The probe finds that group among this stack's groups by its release tag.
   */
  readonly liveReleaseParameterName: string;
  /** The fleet's minimum size, at least 1: the answer is never below it. */
  readonly minCapacity: number;
  /** The configured desired capacity, between min and max: the floor for a new fleet. */
  readonly desiredCapacity: number;
  /** The fleet's maximum size: the answer is never above it. */
  readonly maxCapacity: number;
  /** The preview listener's ARN: the probe picks a free priority on it for the release's preview rule. */
  readonly previewListenerArn: string;
}

/**
 * Picks the release's preview rule priority from those free on the listener, and sizes a new release's fleet at deploy time: clamp(max(configured desired, the live group's
 * desired), min, max), so a deploy never shrinks a fleet that scaled out. The first deploy, with
 * no live release, gets the configured desired capacity.
 *
 * Give it a construct id derived from the release: every deploy then probes afresh, and a
 * rollback only Deletes the new probe (a no-op). Probes of one live pointer share a Provider; a
 * probe of another pointer in the same stack gets a Provider of its own.
 */
export class CapacityProbe extends Construct {
  /** The new fleet's desired capacity (a token resolved at deploy time). */
  readonly desiredCapacity: number;
  /** A preview rule priority free on the listener when the probe ran (a token resolved at deploy time). */
  readonly previewPriority: number;
  /** The `Custom::CapacityProbe` resource. */
  readonly customResource: CustomResource;

  constructor(scope: Construct, id: string, props: CapacityProbeProps) {
    super(scope, id);
    validate(props);
    const provider = CapacityProbeProvider.of(this, props.liveReleaseParameterName);
    const properties: ProbeResourceProperties = {
      LiveReleaseParameter: props.liveReleaseParameterName,
      StackName: Stack.of(this).stackName,
      MinCapacity: props.minCapacity,
      DesiredCapacity: props.desiredCapacity,
      MaxCapacity: props.maxCapacity,
      Release: props.release,
      ListenerArn: props.previewListenerArn,
    };
    this.customResource = new CustomResource(this, 'Resource', {
      serviceToken: provider.provider.serviceToken,
      resourceType: 'Custom::CapacityProbe',
      serviceTimeout: provider.serviceTimeout,
      properties: { ...properties },
    });
    this.desiredCapacity = Token.asNumber(this.customResource.getAtt('DesiredCapacity'));
    this.previewPriority = Token.asNumber(this.customResource.getAtt('PreviewPriority'));
  }
}

function validate(props: CapacityProbeProps): void {
  validateLiveParameterName(props.liveReleaseParameterName);
  const { minCapacity: min, desiredCapacity: desired, maxCapacity: max } = props;
  for (const [field, value] of [['minCapacity', min], ['desiredCapacity', desired], ['maxCapacity', max]] as const) {
    if (!Token.isUnresolved(value) && (!Number.isInteger(value) || value < 1)) {
      throw new Error(`${field}: ${value} must be a whole number of at least 1`);
    }
  }
  if ([min, desired, max].every((n) => !Token.isUnresolved(n)) && !(min <= desired && desired <= max)) {
    throw new Error(`desiredCapacity: ${desired} must lie between minCapacity ${min} and maxCapacity ${max}`);
  }
}

/** A probe Provider, shared by the stack's probes of one live pointer, which its role may read. */
class CapacityProbeProvider extends Construct {
  static of(scope: Construct, parameterName: string): CapacityProbeProvider {
    return sharedBySettings(scope, 'CapacityProbeProvider', { parameterName }, (stack, id) => new CapacityProbeProvider(stack, id, parameterName));
  }

  readonly provider: cr.Provider;
  /** The custom resource's ServiceTimeout: the handler's own time limit and a margin. */
  readonly serviceTimeout: Duration;

  private constructor(scope: Construct, id: string, parameterName: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const { role, logGroup } = customResourceRole(this, 'Probe', 'greenlight capacity probe: reads the live fleet size');
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
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeListenerRules',
        actions: ['elasticloadbalancing:DescribeRules'],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'DescribeAutoScalingGroups and DescribeRules support no resource-level permissions; they are read-only.',
    });
    const onEvent = new HandlerFunction(this, 'OnEvent', {
      entry: path.join(__dirname, '..', 'capacity-probe', 'handler.ts'),
      handler: 'onEvent',
      description: 'greenlight capacity probe: sizes a new release from the live fleet',
      role,
      logGroup,
    });
    this.provider = new cr.Provider(this, 'Provider', { onEventHandler: onEvent.function });
    this.serviceTimeout = oneShotTimeout(onEvent.function);
    acknowledgeProviderFramework(this.provider, [onEvent.function]);
  }
}
