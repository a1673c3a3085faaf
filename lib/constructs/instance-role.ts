import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { nagText } from './health-gate';

export interface InstanceRoleProps {
  /**
   * SSM path the instances load their configuration from, e.g. `/greenlight/app/staging/config/`;
   * it starts and ends with `/`. The role reads this path and nothing else.
   */
  readonly configPrefix: string;
}

/**
 * What the SSM agent needs for Session Manager and nothing else: no AmazonSSMManagedInstanceCore,
 * whose `ssm:GetParameter*` on `*` would let any process on an instance read every parameter in the
 * account and region, another environment's secrets included.
 */
export const SESSION_MANAGER_ACTIONS = [
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:SendReply',
] as const;

/**
 * The identity every release's instances share: Session Manager access and read access to their
 * own environment's configuration, nothing more. It outlives releases, so a deploy never replaces it.
 */
export class InstanceRole extends Construct {
  /** The instances' role; add statements for what the app itself calls. */
  readonly role: iam.Role;
  /** The profile a fleet's launch template takes (`ReleaseFleetProps.instanceProfile`). */
  readonly instanceProfile: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: InstanceRoleProps) {
    super(scope, id);
    // The grant is built from the path's text, so it must be known at synth.
    if (Token.isUnresolved(props.configPrefix) || !props.configPrefix.startsWith('/') || !props.configPrefix.endsWith('/')) {
      throw new Error(`configPrefix: "${props.configPrefix}" must be a literal path that starts and ends with "/"`);
    }
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'greenlight release instances',
    });
    const stack = Stack.of(this);
    // The agent's message channels take no resource; its registration names the instance.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'SessionManagerChannels', actions: [...SESSION_MANAGER_ACTIONS], resources: ['*'] }),
    );
    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'SessionManagerRegistration', actions: ['ssm:UpdateInstanceInformation'], resources: [instances] }),
    );
    // GetParametersByPath is authorised on the path itself, so no wildcard is needed; bootstrap
    // reads the whole prefix in one recursive call.
    const path = props.configPrefix.slice(1);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnConfiguration',
        actions: ['ssm:GetParametersByPath'],
        resources: [path.slice(0, -1), path].map((name) =>
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name }),
        ),
      }),
    );
    this.instanceProfile = new iam.InstanceProfile(this, 'InstanceProfile', { role: this.role });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'The ssmmessages and ec2messages actions Session Manager needs support no resource-level permissions.',
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagText(stack, instances)}]`,
      reason: 'ssm:UpdateInstanceInformation is called by the agent of each instance, whose ids do not exist before launch.',
    });
  }
}
