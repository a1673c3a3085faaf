import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface InstanceRoleProps {
  /** SSM path the instances load their configuration from, e.g. `/greenlight/app/staging/config/`. */
  readonly configPrefix: string;
}

/**
 * The identity every release's instances share: Session Manager access and read access to their
 * own environment's configuration, nothing more. It outlives releases, so a deploy never replaces it.
 */
export class InstanceRole extends Construct {
  readonly role: iam.Role;
  readonly instanceProfile: iam.InstanceProfile;

  constructor(scope: Construct, id: string, props: InstanceRoleProps) {
    super(scope, id);
    if (!props.configPrefix.startsWith('/') || !props.configPrefix.endsWith('/')) {
      throw new Error(`configPrefix: "${props.configPrefix}" must start and end with "/"`);
    }
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'greenlight release instances',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    const stack = Stack.of(this);
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
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager; it replaces SSH.',
    });
  }
}
