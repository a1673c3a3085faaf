import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as cr from 'aws-cdk-lib/custom-resources';

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
