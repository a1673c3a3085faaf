import { createHash } from 'node:crypto';
import { type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { HandlerFunction } from './handler-function';
import {
  CUSTOM_RESOURCE_TIMEOUT_LIMIT,
  oneShotServiceTimeout,
  pollingServiceTimeout,
  pollingTotalTimeout,
  PROVIDER_TOTAL_TIMEOUT_LIMIT,
} from '../time-limits';

const invokeAnyVersion = (fn: lambda.IFunction): string =>
  `AwsSolutions-IAM5[Resource::<${Stack.of(fn).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`;

/**
 * Reviewed cdk-nag findings on the Provider framework's own resources (aws-cdk-lib builds them;
 * their shape is not ours to change). `handlers` are the user functions the framework invokes.
 */
export function acknowledgeProviderFramework(provider: cr.Provider, handlers: readonly lambda.IFunction[]): void {
  const framework = ['framework-onEvent', 'framework-isComplete', 'framework-onTimeout']
    .map((id) => provider.node.tryFindChild(id) as lambda.IFunction | undefined)
    .filter((fn): fn is lambda.IFunction => fn !== undefined);
  const acknowledge = Validations.of(provider);
  acknowledge.acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: "The framework's own functions get only the basic execution role: writing their own logs.",
  });
  for (const fn of [...handlers, ...framework]) {
    acknowledge.acknowledge({
      id: invokeAnyVersion(fn),
      reason: 'aws-cdk-lib grants the framework invoke on the function and its versions; every ARN is this stack\'s own function.',
    });
  }
  acknowledge.acknowledge({
    id: 'AwsSolutions-SF1',
    reason:
      "The waiter's execution data carries CloudFormation's pre-signed response URL, so it is not logged; " +
      'the gate logs one JSON line per poll instead.',
  });
  acknowledge.acknowledge({
    id: 'AwsSolutions-SF2',
    reason: 'The waiter is a single retry loop around one function; its polls are in the function\'s logs.',
  });
}

export interface PollingProviderProps {
  /** The handler module, exporting `onEvent` and `isComplete`. */
  readonly entry: string;
  readonly role: iam.IRole;
  readonly logGroup: logs.ILogGroup;
  /** What each function does, for its description. */
  readonly onEventDescription: string;
  readonly isCompleteDescription: string;
  readonly pollInterval: Duration;
  /** The framework's limit, a backstop behind the handler's own decision. */
  readonly totalTimeout: Duration;
}

/**
 * A Provider whose `isComplete` polls every `pollInterval`: the two functions (`OnEvent`, `IsComplete`)
 * and the framework (`Provider`) under `scope`, with the framework's findings acknowledged.
 */
export function pollingProvider(scope: Construct, props: PollingProviderProps): cr.Provider {
  const { entry, role, logGroup } = props;
  const onEvent = new HandlerFunction(scope, 'OnEvent', { entry, handler: 'onEvent', description: props.onEventDescription, role, logGroup });
  const isComplete = new HandlerFunction(scope, 'IsComplete', { entry, handler: 'isComplete', description: props.isCompleteDescription, role, logGroup });
  const provider = new cr.Provider(scope, 'Provider', {
    onEventHandler: onEvent.function,
    isCompleteHandler: isComplete.function,
    queryInterval: props.pollInterval,
    totalTimeout: props.totalTimeout,
  });
  acknowledgeProviderFramework(provider, [onEvent.function, isComplete.function]);
  return provider;
}

/**
 * The stack's one construct for `settings` under `baseId`, created on first use: constructs that
 * agree on the settings share it. The first settings used in a stack get `baseId` itself, so a
 * stack with one set of settings keeps stable logical ids; other settings get `baseId` plus a hash
 * of the settings, a construct of their own, instead of an error.
 */
export function sharedBySettings<T extends Construct>(
  scope: Construct,
  baseId: string,
  settings: Readonly<Record<string, unknown>>,
  create: (stack: Stack, id: string) => T,
): T {
  const stack = Stack.of(scope);
  const key = JSON.stringify(settings);
  for (const id of [baseId, `${baseId}${createHash('sha256').update(key).digest('hex').slice(0, 8)}`]) {
    const existing = stack.node.tryFindChild(id) as T | undefined;
    if (!existing) {
      const created = create(stack, id);
      SETTINGS.set(created, key);
      return created;
    }
    if (SETTINGS.get(existing) === key) return existing;
  }
  throw new Error(`${baseId}: stack ${stack.stackName} already has a construct with this id for other settings; got ${key}`);
}

const SETTINGS = new WeakMap<Construct, string>();

/**
 * Checks the name of an SSM parameter a shared Provider writes. It must be known at synth and lie
 * under a path, since the Provider's role is granted that path rather than one release's name.
 */
export function validateParameterName(prop: string, name: string): void {
  if (Token.isUnresolved(name) || !name.startsWith('/') || name.endsWith('/') || name.lastIndexOf('/') === 0) {
    throw new Error(`${prop}: "${name}" must be an absolute SSM parameter name under a path, known at synth, such as "/greenlight/<app>/<env>/<phase>/<release>"`);
  }
}

/** The path of a parameter name, with its trailing `/`: what a shared Provider's role may write under. */
export const parameterPath = (name: string): string => name.slice(0, name.lastIndexOf('/') + 1);

/** Checks the live pointer's name, which a Provider's role is granted to read, exactly. */
export function validateLiveParameterName(name: string): void {
  if (Token.isUnresolved(name) || !name.startsWith('/') || name.endsWith('/')) {
    throw new Error(`liveReleaseParameterName: "${name}" must be an absolute SSM parameter name, known at synth`);
  }
}

/**
 * The ServiceTimeout of a custom resource whose Provider answers in one run of `handler` (no
 * isComplete): its Lambda timeout and a margin, rather than CloudFormation's one-hour default.
 */
export function oneShotTimeout(handler: lambda.Function): Duration {
  return Duration.seconds(oneShotServiceTimeout((handler.timeout ?? Duration.seconds(3)).toSeconds()));
}

/** A polling custom resource's time limits. */
export interface PollingTimeouts {
  /** For the custom resource: CloudFormation fails it after this. */
  readonly serviceTimeout: Duration;
  /** For the Provider: whole query intervals, never shorter than the service timeout. */
  readonly totalTimeout: Duration;
}

/**
 * The time limits of a polling custom resource that decides on its own within `longest`: the
 * ServiceTimeout covers one more poll and the report, and the Provider's totalTimeout rounds it up
 * to whole query intervals, which the framework requires. Throws, naming `what`, when the resource
 * would outlast CloudFormation's limit.
 */
export function pollingTimeouts(what: string, longest: Duration, pollInterval: Duration): PollingTimeouts {
  const poll = pollInterval.toSeconds();
  const service = pollingServiceTimeout(longest.toSeconds(), poll);
  if (service > CUSTOM_RESOURCE_TIMEOUT_LIMIT) {
    throw new Error(
      `${what}: runs up to ${longest.toSeconds()}s; with one ${poll}s poll and the report it needs ${service}s, ` +
        `more than the ${CUSTOM_RESOURCE_TIMEOUT_LIMIT}s CloudFormation waits for a custom resource`,
    );
  }
  const total = pollingTotalTimeout(service, poll);
  if (total > PROVIDER_TOTAL_TIMEOUT_LIMIT) {
    throw new Error(`${what}: a ${poll}s poll interval rounds the Provider's limit to ${total}s, above its ${PROVIDER_TOTAL_TIMEOUT_LIMIT}s`);
  }
  return { serviceTimeout: Duration.seconds(service), totalTimeout: Duration.seconds(total) };
}
