import * as path from 'node:path';
import { CustomResource, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { GateResourceProperties } from '../health-gate/properties';
import { GATE_REPORT_MARGIN, gateServiceTimeout, maxGateTimeout, providerTotalTimeout } from '../health-gate/time-limits';
import { CUSTOM_RESOURCE_TIMEOUT_LIMIT } from '../time-limits';
import { customResourceRole } from './handler-function';
import { parameterPath, pollingProvider, sharedBySettings, validateParameterName } from './provider-framework';

/** A string as cdk-nag prints it in a finding id: pseudo parameters as `<AWS::Region>`, literals as they are. */
export function nagText(stack: Stack, value: string): string {
  const resolved: unknown = stack.resolve(value);
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`cannot render ${JSON.stringify(resolved)} for a cdk-nag acknowledgement`);
  const token = (part: { Ref?: string; 'Fn::GetAtt'?: [string, string] }) => (part.Ref ?? part['Fn::GetAtt']?.join('.'));
  return join[1].map((part) => (typeof part === 'string' ? part : `<${token(part as { Ref?: string })}>`)).join(join[0]);
}

export interface HealthGateProps {
  /** The new release's group (`ReleaseFleet.autoScalingGroup`). The gate depends on it and polls it. */
  readonly group: autoscaling.IAutoScalingGroup;
  /** The release the group runs; the gate's records and log lines name it. */
  readonly release: string;
  /**
   * Where the gate keeps its progress, `/greenlight/<app>/<env>/gate/<release>`. A literal: the
   * shared Provider's role may write under its parent path, `/greenlight/<app>/<env>/gate/`.
   */
  readonly progressParameterName: string;
  /** Instances that must be healthy, at least 1; may be a token (the capacity probe's answer). */
  readonly expectedInstances: number;
  /**
   * K: consecutive all-healthy polls before the gate passes.
   * @default 3
   */
  readonly consecutiveHealthyPolls?: number;
  /**
   * Time between polls; also the Provider's query interval.
   * @default Duration.seconds(15)
   */
  readonly pollInterval?: Duration;
  /**
   * Time from the gate's start until it fails with its diagnosis. With the poll interval and two
   * minutes to report, it must fit CloudFormation's one-hour limit for a custom resource.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * More replaced instances than this is a crash loop.
   * @default 2
   */
  readonly maxReplacedInstances?: number;
}

/**
 * Waits until every expected instance of a new group is InService, Healthy and `healthy` in each of
 * its target groups for K consecutive polls, or fails the deploy with a diagnosis.
 *
 * Give it a construct id derived from the release, like the fleet's: each deploy then Creates a
 * gate, and a rollback only Deletes it (a no-op), never re-running a gate against the old fleet.
 * The Lambda functions and the Provider are shared by the stack's gates and outlive releases, so a
 * failed gate's logs survive the rollback. Gates that differ in poll interval, timeout or progress
 * path get a Provider of their own; the first settings in a stack keep the id `HealthGateProvider`.
 *
 * Make the cutover depend on the gate (`ListenerCutoverProps.after`).
 */
export class HealthGate extends Construct {
  /** The `Custom::HealthGate` resource; it completes when the fleet passes. */
  readonly customResource: CustomResource;

  constructor(scope: Construct, id: string, props: HealthGateProps) {
    super(scope, id);
    const pollInterval = props.pollInterval ?? Duration.seconds(15);
    const timeout = props.timeout ?? Duration.minutes(15);
    const consecutive = props.consecutiveHealthyPolls ?? 3;
    const maxReplaced = props.maxReplacedInstances ?? 2;
    validate(props, pollInterval, timeout, consecutive, maxReplaced);

    const prefix = parameterPath(props.progressParameterName);
    const provider = HealthGateProvider.of(this, { progressPrefix: prefix, pollInterval, timeout });

    const properties: GateResourceProperties = {
      GroupName: props.group.autoScalingGroupName,
      Release: props.release,
      ProgressParameter: props.progressParameterName,
      ExpectedInstances: props.expectedInstances,
      ConsecutiveHealthyPolls: consecutive,
      PollIntervalSeconds: pollInterval.toSeconds(),
      TimeoutSeconds: timeout.toSeconds(),
      MaxReplacedInstances: maxReplaced,
    };
    this.customResource = new CustomResource(this, 'Resource', {
      serviceToken: provider.provider.serviceToken,
      resourceType: 'Custom::HealthGate',
      // CloudFormation gives up on its own shortly after the gate would have reported, not after an hour.
      serviceTimeout: Duration.seconds(gateServiceTimeout(timeout.toSeconds(), pollInterval.toSeconds())),
      properties: { ...properties },
    });
    this.customResource.node.addDependency(props.group);
  }
}

function validate(props: HealthGateProps, pollInterval: Duration, timeout: Duration, consecutive: number, maxReplaced: number): void {
  const known = (n: number) => !Token.isUnresolved(n);
  if (known(props.expectedInstances) && (!Number.isInteger(props.expectedInstances) || props.expectedInstances < 1)) {
    throw new Error(`expectedInstances: ${props.expectedInstances} must be a whole number of at least 1`);
  }
  if (known(consecutive) && (!Number.isInteger(consecutive) || consecutive < 1)) {
    throw new Error(`consecutiveHealthyPolls: ${consecutive} must be a whole number of at least 1`);
  }
  if (known(maxReplaced) && (!Number.isInteger(maxReplaced) || maxReplaced < 0)) {
    throw new Error(`maxReplacedInstances: ${maxReplaced} must be a whole number of at least 0`);
  }
  if (!pollInterval.isUnresolved() && (pollInterval.toSeconds() < 1 || pollInterval.toSeconds() > 300)) {
    throw new Error(`pollInterval: ${pollInterval.toSeconds()}s must be between 1 and 300 seconds`);
  }
  if (!timeout.isUnresolved() && !pollInterval.isUnresolved()) {
    const poll = pollInterval.toSeconds();
    const max = maxGateTimeout(poll);
    if (timeout.toSeconds() < poll || timeout.toSeconds() > max) {
      throw new Error(
        `timeout: ${timeout.toSeconds()}s must be between pollInterval (${poll}s) and ${max}s: CloudFormation waits at most ` +
          `${CUSTOM_RESOURCE_TIMEOUT_LIMIT}s for a custom resource, and the gate needs one poll interval and ` +
          `${GATE_REPORT_MARGIN}s after its timeout to report`,
      );
    }
  }
  validateParameterName('progressParameterName', props.progressParameterName);
}

interface HealthGateProviderProps {
  readonly progressPrefix: string;
  readonly pollInterval: Duration;
  readonly timeout: Duration;
}

/**
 * A gate Provider: functions, role and log group shared by the stack's gates with the same poll
 * interval, timeout and progress path (the Provider's query interval, time limit and grant).
 */
class HealthGateProvider extends Construct {
  /** The stack's Provider for these settings, shared by every gate that agrees on them. */
  static of(scope: Construct, props: HealthGateProviderProps): HealthGateProvider {
    const settings = { progressPrefix: props.progressPrefix, pollInterval: props.pollInterval.toSeconds(), timeout: props.timeout.toSeconds() };
    return sharedBySettings(scope, 'HealthGateProvider', settings, (stack, id) => new HealthGateProvider(stack, id, props));
  }

  readonly provider: cr.Provider;

  private constructor(scope: Construct, id: string, props: HealthGateProviderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { role, logGroup } = customResourceRole(this, 'Gate', 'greenlight health gate: describes the new fleet, keeps its progress');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeFleet',
        actions: [
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeScalingActivities',
          'elasticloadbalancing:DescribeTargetHealth',
        ],
        resources: ['*'],
      }),
    );
    const progressArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${props.progressPrefix.slice(1)}*` });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'KeepGateProgress', actions: ['ssm:GetParameter', 'ssm:PutParameter'], resources: [progressArn] }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'DescribeAutoScalingGroups, DescribeScalingActivities and DescribeTargetHealth support no resource-level ' +
        'permissions; they are read-only.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagText(stack, progressArn)}]`,
      reason: "One progress parameter per release under the environment's own gate path; release ids are not known when the role is created.",
    });

    // The gate times out first; the framework's limit is only a backstop, in whole poll intervals.
    this.provider = pollingProvider(this, {
      entry: path.join(__dirname, '..', 'health-gate', 'handler.ts'),
      role,
      logGroup,
      onEventDescription: 'greenlight health gate: checks the gate properties',
      isCompleteDescription: 'greenlight health gate: one poll of the new fleet',
      pollInterval: props.pollInterval,
      totalTimeout: Duration.seconds(providerTotalTimeout(props.timeout.toSeconds(), props.pollInterval.toSeconds())),
    });
  }
}
