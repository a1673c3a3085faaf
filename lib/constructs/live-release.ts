import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct, type IDependable } from 'constructs';

export interface LiveReleasePointerProps {
  /** `/greenlight/<app>/<env>/live-release` */
  readonly parameterName: string;
  /** The release now serving. */
  readonly release: string;
  /** What must succeed first: the release's health gate. */
  readonly after: IDependable;
}

/**
 * The SSM parameter naming the release the environment serves. Its construct id is stable, so a
 * deploy updates it in place, only after the gate passes, and a rollback restores the old value.
 */
export class LiveReleasePointer extends Construct {
  readonly parameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: LiveReleasePointerProps) {
    super(scope, id);
    this.parameter = new ssm.StringParameter(this, 'Parameter', {
      parameterName: props.parameterName,
      stringValue: props.release,
      description: 'greenlight: the release this environment serves; changed only after its health gate passes',
      tier: ssm.ParameterTier.STANDARD,
    });
    this.parameter.node.addDependency(props.after);
  }
}
