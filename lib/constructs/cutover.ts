import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct, Dependable, type IDependable } from 'constructs';

export interface ListenerCutoverProps {
  /**
   * The listener users reach. It must be defined in this app: the cutover rewrites its default
   * action, which an imported listener's owner controls.
   */
  readonly listener: elbv2.IApplicationListener;
  /** The release's target group, which the listener forwards every request to from the cutover on. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  /**
   * What must complete first: the release's health gate, its smoke checks, the outgoing
   * release's scaling hold.
   */
  readonly after: readonly IDependable[];
}

/**
 * The cutover: the serving listener's default action forwards to the release's target group, and
 * the listener changes only after every resource in `after` has completed. One ModifyListener
 * call, so the switch is atomic, and CloudFormation's rollback switches back the same way.
 *
 * The action is written on the listener's own resource rather than through the target group's
 * listener registration: that registration would make the release's group wait for the listener,
 * while the listener waits for the group's gate. For the same reason the release's preview rule
 * belongs on another listener (see `ReleaseTargetGroup`).
 *
 * The construct adds no resource of its own. Depending on it (e.g. `BakeWindow`'s `after`, or
 * `startScalingAfter`) depends on the listener.
 */
export class ListenerCutover extends Construct {
  /** The serving listener's resource, whose default action this cutover sets. */
  readonly cfnListener: elbv2.CfnListener;

  constructor(scope: Construct, id: string, props: ListenerCutoverProps) {
    super(scope, id);
    const cfnListener = props.listener.node.defaultChild;
    if (!(cfnListener instanceof elbv2.CfnListener)) {
      throw new Error(
        `listener: ${props.listener.node.path} is not a listener defined in this app; an imported listener's ` +
          'default action belongs to its own stack, so define the serving listener here',
      );
    }
    this.cfnListener = cfnListener;
    cfnListener.addPropertyOverride('DefaultActions', [{ Type: 'forward', TargetGroupArn: props.targetGroup.targetGroupArn }]);
    for (const dependency of props.after) cfnListener.node.addDependency(dependency);
    Dependable.implement(this, { dependencyRoots: [cfnListener] });
  }
}
