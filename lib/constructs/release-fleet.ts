import { Annotations, Duration, Size, Tags, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RELEASE_TAG } from '../ssm-paths';

export interface ReleaseFleetProps {
  readonly vpc: ec2.IVpc;
  /** The release this fleet runs; it tags the group and its instances. */
  readonly release: string;
  /** The release's AMI. */
  readonly machineImage: ec2.IMachineImage;
  readonly instanceType: ec2.InstanceType;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** May be a token, e.g. the capacity probe's answer. */
  readonly desiredCapacity: number;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly instanceProfile: iam.IInstanceProfile;
  /** The target group the instances join. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  readonly userData: ec2.UserData;
  /**
   * Time after launch before the load balancer's verdict can replace an instance.
   * @default Duration.minutes(5)
   */
  readonly healthCheckGracePeriod?: Duration;
  /**
   * Size of the encrypted gp3 root volume.
   * @default Size.gibibytes(16)
   */
  readonly rootVolumeSize?: Size;
}

/**
 * One release's launch template and Auto Scaling group. Give it a construct id derived from the
 * release (see releaseScopedId): each release is then a new group, and the previous one is deleted
 * by CloudFormation only after the new one, and everything that depends on it, succeeded.
 */
export class ReleaseFleet extends Construct {
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly group: autoscaling.AutoScalingGroup;

  constructor(scope: Construct, id: string, props: ReleaseFleetProps) {
    super(scope, id);
    validateCapacity(props);

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: props.machineImage,
      instanceType: props.instanceType,
      instanceProfile: props.instanceProfile,
      securityGroup: props.securityGroup,
      userData: props.userData,
      requireImdsv2: true,
      // One hop: a container on the instance cannot borrow the instance's credentials.
      httpPutResponseHopLimit: 1,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs((props.rootVolumeSize ?? Size.gibibytes(16)).toGibibytes(), {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    this.group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: this.launchTemplate,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      desiredCapacity: props.desiredCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: props.healthCheckGracePeriod ?? Duration.minutes(5),
      }),
    });
    this.group.attachToApplicationTargetGroup(props.targetGroup);
    Tags.of(this.group).add(RELEASE_TAG, props.release, { applyToLaunchedInstances: true });

    Annotations.of(this.group).acknowledgeWarning(
      '@aws-cdk/aws-autoscaling:desiredCapacitySet',
      'Each release creates a new group, so its desired capacity is set once, at creation, from the capacity probe.',
    );
    Validations.of(this.group).acknowledge({
      id: 'AwsSolutions-AS3',
      reason: 'Release groups live for one release; the health gate reports their scaling activities in the deploy itself.',
    });
  }
}

function validateCapacity(props: ReleaseFleetProps): void {
  const { minCapacity: min, desiredCapacity: desired, maxCapacity: max } = props;
  const known = (n: number) => !Token.isUnresolved(n);
  if (known(min) && min < 1) {
    throw new Error(`minCapacity: ${min} must be at least 1; an empty fleet would pass the health gate unseen`);
  }
  if (known(min) && known(max) && min > max) {
    throw new Error(`maxCapacity: ${max} must be at least minCapacity ${min}`);
  }
  if (known(desired) && ((known(min) && desired < min) || (known(max) && desired > max))) {
    throw new Error(`desiredCapacity: ${desired} must lie between minCapacity ${min} and maxCapacity ${max}`);
  }
}
