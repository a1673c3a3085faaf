import * as path from 'node:path';
import { ArnFormat, CustomResource, type Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { PreviewKeyResourceProperties } from '../preview/handler';
import { loadBalancerFullName } from './bake-window';
import { customResourceRole, HandlerFunction } from './handler-function';
import { nagText } from './health-gate';
import { acknowledgeProviderFramework, oneShotTimeout, parameterPath, sharedBySettings, validateParameterName } from './provider-framework';

export interface PreviewKeyProps {
  /** The release whose preview rule gets the key; the construct id should derive from it. */
  readonly release: string;
  /** The release's preview rule (`ReleaseTargetGroup.previewRule`), created so that it matches nothing. */
  readonly previewRule: elbv2.ApplicationListenerRule;
  /** The load balancer of the preview listener; the function may change the rules of its listeners only. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The preview header's name; the rule keeps requiring it to name the release. */
  readonly previewHeader: string;
  /**
   * Where the key is kept, as a SecureString: `/greenlight/<app>/<env>/preview/<release>`. A literal:
   * the shared Provider's role may write under its parent path.
   */
  readonly parameterName: string;
}

/**
 * A random key per release, which the release's preview rule requires beside the header naming
 * the release: without it, a release id reaches nothing. The key is made at deploy time by the
 * resource's function, kept as a SecureString (which CloudFormation cannot create), and written
 * into the rule's condition with ModifyRule, so it is in no template. Deleting the resource deletes
 * the key. Make whatever sends the key (the smoke checks) depend on it.
 */
export class PreviewKey extends Construct {
  /** The `Custom::PreviewKey` resource. */
  readonly customResource: CustomResource;

  constructor(scope: Construct, id: string, props: PreviewKeyProps) {
    super(scope, id);
    validateParameterName('parameterName', props.parameterName);
    if (!Token.isUnresolved(props.previewHeader) && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/.test(props.previewHeader)) {
      throw new Error(`previewHeader: ${JSON.stringify(props.previewHeader)} must be an HTTP header name of 1–40 characters`);
    }
    const provider = PreviewKeyProvider.of(this, parameterPath(props.parameterName), loadBalancerFullName(props.loadBalancer));
    const properties: PreviewKeyResourceProperties = {
      ParameterName: props.parameterName,
      RuleArn: props.previewRule.listenerRuleArn,
      Header: props.previewHeader,
      Release: props.release,
    };
    this.customResource = new CustomResource(this, 'Resource', {
      serviceToken: provider.provider.serviceToken,
      resourceType: 'Custom::PreviewKey',
      serviceTimeout: provider.serviceTimeout,
      properties: { ...properties },
    });
  }
}

/** A preview key Provider, shared by the stack's keys under one parameter path. */
class PreviewKeyProvider extends Construct {
  static of(scope: Construct, prefix: string, loadBalancer: string): PreviewKeyProvider {
    return sharedBySettings(scope, 'PreviewKeyProvider', { prefix, loadBalancer }, (stack, id) => new PreviewKeyProvider(stack, id, prefix, loadBalancer));
  }

  readonly provider: cr.Provider;
  /** The custom resource's ServiceTimeout: the handler's own time limit and a margin. */
  readonly serviceTimeout: Duration;

  /** `loadBalancer` is its full name, `app/<name>/<id>`. */
  private constructor(scope: Construct, id: string, prefix: string, loadBalancer: string) {
    super(scope, id);
    const stack = Stack.of(this);
    const { role, logGroup } = customResourceRole(this, 'PreviewKey', "greenlight preview key: keys each release's preview rule");
    const keyArn = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${prefix.slice(1)}*` });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'KeepPreviewKeys', actions: ['ssm:PutParameter', 'ssm:DeleteParameter'], resources: [keyArn] }));
    // Rule ARNs are `listener-rule/app/<name>/<id>/<listener id>/<rule id>`.
    const ruleArn = stack.formatArn({
      service: 'elasticloadbalancing',
      resource: 'listener-rule',
      resourceName: Fn.join('', [loadBalancer, '/*/*']),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'KeyPreviewRules', actions: ['elasticloadbalancing:ModifyRule'], resources: [ruleArn] }));
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagText(stack, keyArn)}]`,
      reason: "One key per release under the environment's own preview path; release ids are not known when the role is created.",
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagText(stack, ruleArn)}]`,
      reason: "Each release's rule is created after the role, with an id ELB picks; the grant is this load balancer's listener rules.",
    });
    const onEvent = new HandlerFunction(this, 'OnEvent', {
      entry: path.join(__dirname, '..', 'preview', 'handler.ts'),
      handler: 'onEvent',
      description: "greenlight preview key: keys the release's preview rule",
      role,
      logGroup,
    });
    this.provider = new cr.Provider(this, 'Provider', { onEventHandler: onEvent.function });
    this.serviceTimeout = oneShotTimeout(onEvent.function);
    acknowledgeProviderFramework(this.provider, [onEvent.function]);
  }
}
