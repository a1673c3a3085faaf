import { Token } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, type IDependable } from 'constructs';

export interface LiveReleasePointerProps {
  /**
   * The parameter's name, `/greenlight/<app>/<env>/live-release`; the capacity probe and the
   * scaling hold read it (their `liveReleaseParameterName`).
   */
  readonly parameterName: string;
  /** The release now serving. */
  readonly release: string;
  /** What must succeed first: the cutover, or the bake window when there is one. */
  readonly after: IDependable;
}

/**
 * The SSM parameter naming the release the environment serves. Its construct id is stable, so a
 * deploy updates it in place, only after the release serves, and a rollback restores the old value.
 */
export class LiveReleasePointer extends Construct {
  /** The SSM parameter. */
  readonly parameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: LiveReleasePointerProps) {
    super(scope, id);
    const name = props.parameterName;
    if (!Token.isUnresolved(name) && (!name.startsWith('/') || name.endsWith('/'))) {
      throw new Error(`parameterName: "${name}" must be an absolute SSM parameter name`);
    }
    this.parameter = new ssm.StringParameter(this, 'Parameter', {
      parameterName: props.parameterName,
      stringValue: props.release,
      description: 'greenlight: the release this environment serves; changed only after its health gate passes',
      tier: ssm.ParameterTier.STANDARD,
    });
    this.parameter.node.addDependency(props.after);
  }
}
