import { Annotations, Duration, Size, Tags, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IDependable } from 'constructs';
import { RELEASE_TAG } from '../ssm-paths';

/** A scheduled change of the group's capacity. */
export interface FleetScheduledAction {
  /** Unique within the fleet; part of the construct id. */
  readonly name: string;
  /** Five-field Unix cron expression, e.g. `30 6 * * MON-FRI`. */
  readonly cron: string;
  /**
   * IANA time zone of the cron expression.
   * @default UTC
   */
  readonly timeZone?: string;
  /**
   * The group's minimum capacity from the scheduled time on.
   * @default - unchanged
   */
  readonly minCapacity?: number;
  /**
   * The group's desired capacity from the scheduled time on.
   * @default - unchanged
   */
  readonly desiredCapacity?: number;
  /**
   * The group's maximum capacity from the scheduled time on.
   * @default - unchanged
   */
  readonly maxCapacity?: number;
}

/** How a release's group scales with its load. Each part is optional. */
export interface FleetScaling {
  /**
   * Target tracking on the group's average CPU utilisation, in percent.
   * @default - no CPU policy
   */
  readonly cpuUtilization?: number;
  /**
   * Target tracking on ALBRequestCountPerTarget of the group's own target group, per minute.
   * The target group must be defined in this app and sit behind a load balancer.
   * @default - no request-count policy
   */
  readonly requestsPerTargetPerMinute?: number;
  /**
   * Scheduled changes of the group's capacity.
   * @default - no scheduled actions
   */
  readonly scheduled?: readonly FleetScheduledAction[];
}

/** The root device name of Amazon Linux and Debian AMIs. */
export const DEFAULT_ROOT_DEVICE_NAME = '/dev/xvda';

export interface ReleaseFleetProps {
  /** The VPC the instances run in. */
  readonly vpc: ec2.IVpc;
  /**
   * Where in the VPC the instances run.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The release this fleet runs; it tags the group and its instances. */
  readonly release: string;
  /** The release's AMI. */
  readonly machineImage: ec2.IMachineImage;
  /** The instances' type. */
  readonly instanceType: ec2.InstanceType;
  /** The group's minimum size, at least 1: an empty fleet would pass the health gate unseen. */
  readonly minCapacity: number;
  /** The group's maximum size, at least `minCapacity`. */
  readonly maxCapacity: number;
  /**
   * The group's size at creation, between `minCapacity` and `maxCapacity`. May be a token, e.g.
   * the capacity probe's answer.
   */
  readonly desiredCapacity: number;
  /** The instances' security group; it should admit the load balancer only. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The instances' identity (see `InstanceRole`). */
  readonly instanceProfile: iam.IInstanceProfile;
  /** The target group the instances join, and the only one (see `ReleaseTargetGroup`). */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  /** The instances' first-boot script. */
  readonly userData: ec2.UserData;
  /**
   * Time after launch before the load balancer's verdict can replace an instance.
   * @default Duration.minutes(5)
   */
  readonly healthCheckGracePeriod?: Duration;
  /**
   * Scaling policies and scheduled actions of the group. Call `startScalingAfter` to hold them
   * until the fleet serves.
   * @default - the group keeps its size
   */
  readonly scaling?: FleetScaling;
  /**
   * Size of the encrypted gp3 root volume.
   * @default Size.gibibytes(16)
   */
  readonly rootVolumeSize?: Size;
  /**
   * The AMI's root device name, which the encrypted gp3 volume replaces. An AMI whose root device
   * has another name would boot from its own unencrypted volume.
   * @default '/dev/xvda'
   */
  readonly rootDeviceName?: string;
}

/**
 * One release's launch template and Auto Scaling group. Give it a construct id derived from the
 * release (see releaseScopedId): each release is then a new group, and the previous one is deleted
 * by CloudFormation only after the new one, and everything that depends on it, succeeded.
 *
 * The instances need IMDSv2 (one hop, so a container cannot borrow their credentials) and boot
 * from an encrypted gp3 root volume. The group replaces an instance the load balancer finds
 * unhealthy after the grace period.
 */
export class ReleaseFleet extends Construct {
  /** The instances' launch template. */
  readonly launchTemplate: ec2.LaunchTemplate;
  /** The release's group. A health gate polls it. */
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The group's scaling policies and scheduled actions, created by `scaling`. */
  readonly scalingResources: readonly Construct[];

  constructor(scope: Construct, id: string, props: ReleaseFleetProps) {
    super(scope, id);
    validateCapacity(props);
    validateScaling(props.scaling);

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
          deviceName: props.rootDeviceName ?? DEFAULT_ROOT_DEVICE_NAME,
          volume: ec2.BlockDeviceVolume.ebs((props.rootVolumeSize ?? Size.gibibytes(16)).toGibibytes(), {
            encrypted: true,
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: this.launchTemplate,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      desiredCapacity: props.desiredCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: props.healthCheckGracePeriod ?? Duration.minutes(5),
      }),
    });
    const group = this.autoScalingGroup;
    group.attachToApplicationTargetGroup(props.targetGroup);
    Tags.of(group).add(RELEASE_TAG, props.release, { applyToLaunchedInstances: true });
    this.scalingResources = attachScaling(this, group, props.targetGroup, props.scaling);

    Annotations.of(group).acknowledgeWarning(
      '@aws-cdk/aws-autoscaling:desiredCapacitySet',
      'Each release creates a new group, so its desired capacity is set once, at creation, from the capacity probe.',
    );
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-AS3',
      reason: 'Release groups live for one release; the health gate reports their scaling activities in the deploy itself.',
    });
  }
}

/**
 * Creates the scaling policies and scheduled actions only once every resource in `after` exists:
 * in one stack update, after the cutover. Until then the group has none, so the idle metrics of a
 * fleet that serves no user yet cannot scale it in, and nothing needs undoing afterwards.
 */
export function startScalingAfter(fleet: ReleaseFleet, after: readonly IDependable[]): void {
  for (const resource of fleet.scalingResources) for (const dependency of after) resource.node.addDependency(dependency);
}

// The policies are the group's own (they name it), but live beside it in the fleet rather than
// under it: whatever depends on the group (the health gate) must not wait for them.
function attachScaling(
  scope: Construct,
  group: autoscaling.AutoScalingGroup,
  targetGroup: elbv2.IApplicationTargetGroup,
  scaling: FleetScaling | undefined,
): Construct[] {
  if (!scaling) return [];
  const resources: Construct[] = [];
  if (scaling.cpuUtilization !== undefined) {
    resources.push(
      new autoscaling.TargetTrackingScalingPolicy(scope, 'CpuTracking', {
        autoScalingGroup: group,
        predefinedMetric: autoscaling.PredefinedMetric.ASG_AVERAGE_CPU_UTILIZATION,
        targetValue: scaling.cpuUtilization,
      }),
    );
  }
  if (scaling.requestsPerTargetPerMinute !== undefined) {
    if (!(targetGroup instanceof elbv2.ApplicationTargetGroup)) {
      throw new Error('scaling.requestsPerTargetPerMinute: the fleet\'s target group must be defined in this app, behind a load balancer');
    }
    // ALBRequestCountPerTarget of the group's own target group: `app/<lb>/<id>/targetgroup/<tg>/<id>`.
    resources.push(
      new autoscaling.TargetTrackingScalingPolicy(scope, 'RequestTracking', {
        autoScalingGroup: group,
        predefinedMetric: autoscaling.PredefinedMetric.ALB_REQUEST_COUNT_PER_TARGET,
        resourceLabel: `${targetGroup.firstLoadBalancerFullName}/${targetGroup.targetGroupFullName}`,
        targetValue: scaling.requestsPerTargetPerMinute,
      }),
    );
  }
  for (const action of scaling.scheduled ?? []) {
    resources.push(
      new autoscaling.ScheduledAction(scope, `Scheduled-${action.name}`, {
        autoScalingGroup: group,
        schedule: autoscaling.Schedule.expression(action.cron),
        timeZone: action.timeZone,
        minCapacity: action.minCapacity,
        desiredCapacity: action.desiredCapacity,
        maxCapacity: action.maxCapacity,
      }),
    );
  }
  return resources;
}

function validateScaling(scaling: FleetScaling | undefined): void {
  const cpu = scaling?.cpuUtilization;
  if (cpu !== undefined && !Token.isUnresolved(cpu) && !(cpu > 0 && cpu <= 100)) {
    throw new Error(`scaling.cpuUtilization: ${cpu} must be a percentage above 0 and at most 100`);
  }
  const requests = scaling?.requestsPerTargetPerMinute;
  if (requests !== undefined && !Token.isUnresolved(requests) && !(requests > 0)) {
    throw new Error(`scaling.requestsPerTargetPerMinute: ${requests} must be above 0`);
  }
  const names = (scaling?.scheduled ?? []).map((a) => a.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new Error(`scaling.scheduled: the name "${repeated}" is used twice; names must be unique`);
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
