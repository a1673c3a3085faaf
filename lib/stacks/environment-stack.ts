import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type Construct, DependencyGroup, type IDependable } from 'constructs';
import { scheduleTime } from '../config/standby';
import type { EnvironmentSettings, ScalingSettings } from '../config/schema';
import { BakeWindow } from '../constructs/bake-window';
import { CapacityProbe } from '../constructs/capacity-probe';
import type { ListenerCutover } from '../constructs/cutover';
import { HealthGate } from '../constructs/health-gate';
import { InstanceRole } from '../constructs/instance-role';
import { LiveReleasePointer } from '../constructs/live-release';
import { LoadBalancer } from '../constructs/load-balancer';
import { Network } from '../constructs/network';
import { type FleetScaling, ReleaseFleet, startScalingAfter } from '../constructs/release-fleet';
import { PreviewKey } from '../constructs/preview-key';
import { OutgoingScalingHold } from '../constructs/scaling-hold';
import { releaseScopedId } from '../constructs/release-id';
import { ReleaseTargetGroup } from '../constructs/release-target-group';
import { SmokeCheck } from '../constructs/smoke-check';
import { TrafficSteps } from '../constructs/traffic-steps';
import {
  amiParameterName,
  bakeProgressParameterName,
  configPrefix,
  gateProgressParameterName,
  liveReleaseParameterName,
  previewKeyParameterName,
  smokeResultParameterName,
  trafficProgressParameterName,
} from '../ssm-paths';
import { renderBootstrapFile } from '../userdata/render';

export interface EnvironmentStackProps extends StackProps {
  /** The application's name, e.g. `shop`; part of every SSM path. */
  readonly app: string;
  /** The environment's name, e.g. `staging`; part of every SSM path. */
  readonly envName: string;
  /** The environment's validated settings, as `lib/config/` loads them from cdk.json. */
  readonly settings: EnvironmentSettings;
  /** The release to deploy; its id names its resources. */
  readonly release: string;
  /**
   * Deploy this AMI instead of the one published for the release.
   * @default - the SSM parameter `/greenlight/<app>/releases/<release>/ami-id`, resolved at deploy time
   */
  readonly amiId?: string;
  /**
   * First-boot script, with a `# @greenlight-parameters@` line for the release parameters.
   * @default userdata/bootstrap.sh
   */
  readonly bootstrapScript?: string;
  /**
   * The outgoing release, kept running after the cutover so that a rollback is a switch.
   * @default - no standby: CloudFormation deletes the outgoing release after the cutover
   */
  readonly standby?: StandbyProps;
  /**
   * Makes this deploy's health gate a resource of its own when `release` is a standby switched
   * back to, which may happen more than once.
   * @default - the gate's id derives from the release alone
   */
  readonly rollbackId?: string;
  /**
   * The managed policy every role of the stack carries as its permissions boundary, by name. The
   * bootstrap step creates it once per account (iam/permissions-boundary.json); CloudFormation's
   * execution policy lets the stack create roles only with it.
   * @default `<app>-permissions-boundary`
   */
  readonly permissionsBoundaryName?: string;
}

/** The name of the permissions boundary the bootstrap step creates for an app. */
export const permissionsBoundaryName = (app: string): string => `${app}-permissions-boundary`;

/** The outgoing release a deploy keeps warm. */
export interface StandbyProps {
  /** The release that served before this deploy. */
  readonly release: string;
  /** When its fleet scales to zero: the deploy's start plus the environment's standby window. */
  readonly scaleToZeroAt: Date;
  /**
   * Instances it keeps until then.
   * @default 'full' - the size it served at, so switching back relaunches nothing
   */
  readonly capacity?: 'full' | number;
}

/**
 * One environment (`<app>-<env>`): composition only. In one stack update, in this order: capacity
 * probe, the release's target group and preview rule, its fleet, the health gate, the smoke checks,
 * the traffic steps, the cutover (the listener), the bake window, the live pointer; then CloudFormation's cleanup
 * deletes the previous release's resources.
 */
export class EnvironmentStack extends Stack {
  /** The environment's load balancer and listeners, which outlive releases. */
  readonly loadBalancer: LoadBalancer;
  /** The release's target group and preview rule. */
  readonly target: ReleaseTargetGroup;
  /** The release's launch template and group. */
  readonly fleet: ReleaseFleet;
  /** Sizes the release's fleet and picks its preview rule priority. */
  readonly capacity: CapacityProbe;
  /** The release's health gate. */
  readonly gate: HealthGate;
  /** Present when the environment has `smoke`. */
  readonly smoke?: SmokeCheck;
  /** Present when the environment has `traffic` and the deploy is not a switch back to a standby. */
  readonly traffic?: TrafficSteps;
  /** The serving listener's move to the release's target group. */
  readonly cutover: ListenerCutover;
  /** Present when the environment has `bake`. */
  readonly bake?: BakeWindow;
  /** The parameter naming the release the environment serves. */
  readonly liveRelease: LiveReleasePointer;
  /** Present when the environment has `scaling`. */
  readonly scalingHold?: OutgoingScalingHold;
  /** The standby release's fleet, when the deploy keeps one. */
  readonly standbyFleet?: ReleaseFleet;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id, props);
    const { app, envName, settings, release } = props;
    const hc = settings.healthCheck;
    // Every role of the stack, aws-cdk-lib's own included, at most what the boundary allows.
    iam.PermissionsBoundary.of(this).apply(
      iam.ManagedPolicy.fromManagedPolicyName(this, 'PermissionsBoundary', props.permissionsBoundaryName ?? permissionsBoundaryName(app)),
    );

    const { vpc } = new Network(this, 'Network', {
      maxAzs: settings.vpc.maxAzs,
      existingVpc: settings.vpc.vpcId
        ? {
            vpcId: settings.vpc.vpcId,
            availabilityZones: settings.vpc.availabilityZones ?? [],
            publicSubnetIds: settings.vpc.publicSubnetIds ?? [],
            privateSubnetIds: settings.vpc.privateSubnetIds ?? [],
          }
        : undefined,
    });

    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', {
      vpc,
      certificateArn: settings.listener.protocol === 'HTTPS' ? settings.listener.certificateArn : undefined,
      deletionProtection: settings.deletionProtection ?? envName === 'production',
      previewAllowedCidrs: settings.preview.allowedCidrs,
    });

    const identity = new InstanceRole(this, 'InstanceRole', { configPrefix: configPrefix(app, envName) });

    // Per-release ids: each deploy Creates probe, target group, fleet, gate, smoke and bake; a
    // rollback only Deletes them. A standby's probe, target group and fleet are built exactly as
    // when it was live, so they keep their logical ids and properties and CloudFormation leaves
    // them running.
    const releaseResources = (forRelease: string, amiId: string | undefined, standbyCapacity?: number, scaling?: ScalingSettings) => {
      const capacity = new CapacityProbe(this, releaseScopedId('Capacity', forRelease), {
        release: forRelease,
        liveReleaseParameterName: liveReleaseParameterName(app, envName),
        minCapacity: settings.capacity.min,
        desiredCapacity: settings.capacity.desired,
        maxCapacity: settings.capacity.max,
        previewListenerArn: this.loadBalancer.previewListener.listenerArn,
      });
      const target = new ReleaseTargetGroup(this, releaseScopedId('Target', forRelease), {
        vpc,
        release: forRelease,
        healthCheck: {
          path: hc.path,
          interval: Duration.seconds(hc.interval),
          timeout: Duration.seconds(hc.timeout),
          healthyThreshold: hc.healthyThreshold,
          unhealthyThreshold: hc.unhealthyThreshold,
          matcher: hc.matcher,
        },
        deregistrationDelay: Duration.seconds(settings.deregistrationDelay),
        listener: this.loadBalancer.previewListener,
        previewHeader: settings.preview.header,
        previewPriority: capacity.previewPriority,
      });
      const userData = ec2.UserData.custom(
        renderBootstrapFile({
          app,
          env: envName,
          release: forRelease,
          region: this.region,
          tls: settings.listener.protocol === 'HTTPS',
        }, props.bootstrapScript),
      );
      const fleet = new ReleaseFleet(this, releaseScopedId('Fleet', forRelease), {
        vpc,
        release: forRelease,
        machineImage: amiId
          ? ec2.MachineImage.genericLinux({ [this.region]: amiId })
          : ec2.MachineImage.fromSsmParameter(amiParameterName(app, forRelease)),
        instanceType: new ec2.InstanceType(settings.instanceType),
        minCapacity: standbyCapacity === undefined ? settings.capacity.min : Math.min(settings.capacity.min, standbyCapacity),
        maxCapacity: settings.capacity.max,
        desiredCapacity: standbyCapacity ?? capacity.desiredCapacity,
        securityGroup: this.loadBalancer.instanceSecurityGroup,
        instanceProfile: identity.instanceProfile,
        targetGroup: target.targetGroup,
        userData,
        healthCheckGracePeriod: Duration.seconds(settings.healthCheckGracePeriod),
        scaling: scaling ? fleetScaling(scaling) : undefined,
      });
      // The preview rule puts the target group behind the load balancer, so health checks run from
      // the first instance on, and go on while the release stands by.
      fleet.autoScalingGroup.node.addDependency(target.previewRule);
      // The rule forwards nothing until this keys it; a standby keeps its key with its rule.
      const previewKey = new PreviewKey(this, releaseScopedId('PreviewKey', forRelease), {
        release: forRelease,
        previewRule: target.previewRule,
        loadBalancer: this.loadBalancer.alb,
        previewHeader: settings.preview.header,
        parameterName: previewKeyParameterName(app, envName, forRelease),
      });
      return { capacity, target, fleet, previewKey };
    };

    const current = releaseResources(release, props.amiId, undefined, settings.scaling);
    ({ capacity: this.capacity, target: this.target, fleet: this.fleet } = current);
    const standby = props.standby;
    const standbyCapacity = standby?.capacity === undefined || standby.capacity === 'full' ? undefined : standby.capacity;
    if (standby) this.standbyFleet = releaseResources(standby.release, undefined, standbyCapacity).fleet;

    // A standby has no scaling of its own: its policies and recurring actions (separate resources;
    // its group is unchanged) go, and its one-time scale-to-zero below ends its window.
    // A switch back to a standby may happen more than once; each gets a gate of its own.
    const gateId = releaseScopedId('Gate', props.rollbackId ? `${release}-rollback-${props.rollbackId}` : release);
    this.gate = new HealthGate(this, gateId, {
      group: this.fleet.autoScalingGroup,
      release,
      progressParameterName: gateProgressParameterName(app, envName, release),
      expectedInstances: this.capacity.desiredCapacity,
      consecutiveHealthyPolls: settings.gate.consecutiveHealthyPolls,
      pollInterval: Duration.seconds(settings.gate.pollInterval),
      timeout: Duration.seconds(settings.gate.timeout),
      maxReplacedInstances: settings.gate.maxReplacedInstances,
    });

    if (settings.smoke) {
      this.smoke = new SmokeCheck(this, releaseScopedId('Smoke', release), {
        vpc,
        loadBalancer: this.loadBalancer,
        release,
        previewHeader: settings.preview.header,
        previewKeyParameterName: previewKeyParameterName(app, envName, release),
        paths: settings.smoke.paths,
        expectedStatuses: settings.smoke.expectedStatuses,
        timeout: Duration.seconds(settings.smoke.timeout),
        resultParameterName: smokeResultParameterName(app, envName, release),
        after: new DependencyGroup(this.gate, current.previewKey),
      });
    }

    // Scaling while both fleets exist: right before the cutover, the outgoing fleet's alarm-driven
    // and scheduled scaling is held; the new fleet's policies and scheduled actions come after it.
    const beforeCutover: IDependable[] = [this.gate, ...(this.smoke ? [this.smoke] : [])];
    if (settings.scaling) {
      this.scalingHold = new OutgoingScalingHold(this, releaseScopedId('ScalingHold', release), {
        release,
        liveReleaseParameterName: liveReleaseParameterName(app, envName),
        after: beforeCutover,
        keepScheduledActions: standby !== undefined,
      });
    }

    const beforeTraffic = [...beforeCutover, ...(this.scalingHold ? [this.scalingHold] : [])];
    // Progressive traffic, judged against the live release. A switch back to a standby stays all
    // at once: the standby served every user until this deploy began.
    if (settings.traffic && !props.rollbackId) {
      const t = settings.traffic;
      this.traffic = new TrafficSteps(this, releaseScopedId('Traffic', release), {
        loadBalancer: this.loadBalancer.alb,
        listenerPort: this.loadBalancer.servingPort,
        targetGroup: this.target.targetGroup,
        release,
        steps: t.steps,
        stepDuration: Duration.seconds(t.stepDuration),
        stickiness: t.stickiness === undefined ? undefined : Duration.seconds(t.stickiness),
        errorMargin: t.errorMargin,
        confidence: t.confidence,
        minRequests: t.minRequests,
        latencyRatio: t.latencyRatio,
        latencyFloorMs: t.latencyFloorMs,
        maxExtension: Duration.seconds(t.maxExtension),
        onTooFewRequests: t.onTooFewRequests,
        maxErrorRate: settings.bake?.maxErrorRate,
        maxErrors: settings.bake?.maxErrors,
        alarms: settings.bake?.alarms,
        progressParameterName: trafficProgressParameterName(app, envName, release),
        after: beforeTraffic,
      });
    }

    // The cutover: the listener forwards to the release only after the gate, the smoke checks and the steps.
    this.cutover = this.loadBalancer.serve(this.target.targetGroup, this.traffic ? [...beforeTraffic, this.traffic] : beforeTraffic);
    startScalingAfter(this.fleet, [this.cutover]);

    if (settings.bake) {
      this.bake = new BakeWindow(this, releaseScopedId('Bake', release), {
        loadBalancer: this.loadBalancer.alb,
        targetGroup: this.target.targetGroup,
        release,
        duration: Duration.seconds(settings.bake.duration),
        maxErrorRate: settings.bake.maxErrorRate,
        maxErrors: settings.bake.maxErrors,
        alarms: settings.bake.alarms,
        progressParameterName: bakeProgressParameterName(app, envName, release),
        after: this.cutover,
      });
    }

    this.liveRelease = new LiveReleasePointer(this, 'LiveRelease', {
      parameterName: liveReleaseParameterName(app, envName),
      release,
      after: this.bake ?? this.cutover,
    });

    if (standby && this.standbyFleet) {
      // Scales the standby to zero with no deploy: AWS Auto Scaling runs it once, at the time fixed
      // when the deploy started. Created after the live pointer, so never before the cutover.
      const scaleToZero = new autoscaling.CfnScheduledAction(this, releaseScopedId('StandbyScaleToZero', standby.release), {
        autoScalingGroupName: this.standbyFleet.autoScalingGroup.autoScalingGroupName,
        startTime: scheduleTime(standby.scaleToZeroAt),
        minSize: 0,
        desiredCapacity: 0,
      });
      scaleToZero.node.addDependency(this.liveRelease.parameter);
      new CfnOutput(this, 'StandbyRelease', {
        description: 'The outgoing release, kept running for `greenlight rollback` until StandbyScalesToZeroAt',
        value: standby.release,
      });
      new CfnOutput(this, 'StandbyScalesToZeroAt', { description: "When the standby's fleet scales to zero", value: scheduleTime(standby.scaleToZeroAt) });
    }

    new CfnOutput(this, 'LoadBalancerDnsName', {
      description: "The load balancer's DNS name; the preview route is this with the preview header",
      value: this.loadBalancer.alb.loadBalancerDnsName,
    });
    new CfnOutput(this, 'LiveReleaseId', { description: 'The release this environment serves after this deploy', value: release });
    new CfnOutput(this, 'ReleaseTargetGroup', {
      description: "The release's target group, which the listener forwards to",
      value: this.target.targetGroup.targetGroupArn,
    });
    new CfnOutput(this, 'PreviewUrl', {
      description: `The release before its cutover, from preview.allowedCidrs: send ${settings.preview.header}: ${release} and its key (greenlight status --preview-key)`,
      value: `${this.loadBalancer.previewProtocol}://${this.loadBalancer.alb.loadBalancerDnsName}:${this.loadBalancer.previewPort}/`,
    });
    // The hold finds the outgoing release through the pointer, so the pointer moves after it.
    if (this.scalingHold) this.liveRelease.node.addDependency(this.scalingHold);
  }
}

/** The environment's `scaling` setting as the fleet construct takes it. */
function fleetScaling(s: ScalingSettings): FleetScaling {
  return {
    cpuUtilization: s.cpuUtilization,
    requestsPerTargetPerMinute: s.requestsPerTargetPerMinute,
    scheduled: s.scheduled?.map((a) => ({
      name: a.name,
      cron: a.cron,
      timeZone: a.timeZone,
      minCapacity: a.min,
      desiredCapacity: a.desired,
      maxCapacity: a.max,
    })),
  };
}
