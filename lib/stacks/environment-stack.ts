import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct, IDependable } from 'constructs';
import type { EnvironmentSettings, ScalingSettings } from '../config/schema';
import { BakeWindow } from '../constructs/bake-window';
import { CapacityProbe } from '../constructs/capacity-probe';
import { HealthGate } from '../constructs/health-gate';
import { InstanceRole } from '../constructs/instance-role';
import { LiveReleasePointer } from '../constructs/live-release';
import { LoadBalancer } from '../constructs/load-balancer';
import { Network } from '../constructs/network';
import { type FleetScaling, ReleaseFleet, startScalingAfter } from '../constructs/release-fleet';
import { OutgoingScalingHold } from '../constructs/scaling-hold';
import { releaseScopedId } from '../constructs/release-id';
import { ReleaseTargetGroup } from '../constructs/release-target-group';
import { SmokeCheck } from '../constructs/smoke-check';
import {
  amiParameterName,
  bakeProgressParameterName,
  configPrefix,
  gateProgressParameterName,
  liveReleaseParameterName,
  smokeResultParameterName,
} from '../ssm-paths';
import { renderBootstrapFile } from '../userdata/render';

export interface EnvironmentStackProps extends StackProps {
  /** The application's name, e.g. `shop`. */
  readonly app: string;
  /** The environment's name, e.g. `staging`. */
  readonly envName: string;
  readonly settings: EnvironmentSettings;
  /** The release to deploy. */
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
}

/**
 * One environment (`<app>-<env>`): composition only. In one stack update, in this order: capacity
 * probe, the release's target group and preview rule, its fleet, the health gate, the smoke checks,
 * the cutover (the listener), the bake window, the live pointer; then CloudFormation's cleanup
 * deletes the previous release's resources.
 */
export class EnvironmentStack extends Stack {
  readonly loadBalancer: LoadBalancer;
  readonly target: ReleaseTargetGroup;
  readonly fleet: ReleaseFleet;
  readonly capacity: CapacityProbe;
  readonly gate: HealthGate;
  readonly smoke?: SmokeCheck;
  readonly bake?: BakeWindow;
  readonly liveRelease: LiveReleasePointer;
  /** Present when the environment has `scaling`. */
  readonly scalingHold?: OutgoingScalingHold;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id, props);
    const { app, envName, settings, release } = props;
    const hc = settings.healthCheck;

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
    });

    const identity = new InstanceRole(this, 'InstanceRole', { configPrefix: configPrefix(app, envName) });

    const userData = ec2.UserData.custom(
      renderBootstrapFile({
        app,
        env: envName,
        release,
        region: this.region,
        tls: settings.listener.protocol === 'HTTPS',
      }, props.bootstrapScript),
    );

    // Per-release ids: each deploy Creates probe, target group, fleet, gate, smoke and bake; a
    // rollback only Deletes them.
    this.capacity = new CapacityProbe(this, releaseScopedId('Capacity', release), {
      release,
      liveReleaseParameterName: liveReleaseParameterName(app, envName),
      minCapacity: settings.capacity.min,
      desiredCapacity: settings.capacity.desired,
      maxCapacity: settings.capacity.max,
      previewListenerArn: this.loadBalancer.previewListener.listenerArn,
    });

    this.target = new ReleaseTargetGroup(this, releaseScopedId('Target', release), {
      vpc,
      release,
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
      previewPriority: this.capacity.previewPriority,
    });

    this.fleet = new ReleaseFleet(this, releaseScopedId('Fleet', release), {
      vpc,
      release,
      machineImage: props.amiId
        ? ec2.MachineImage.genericLinux({ [this.region]: props.amiId })
        : ec2.MachineImage.fromSsmParameter(amiParameterName(app, release)),
      instanceType: new ec2.InstanceType(settings.instanceType),
      minCapacity: settings.capacity.min,
      maxCapacity: settings.capacity.max,
      desiredCapacity: this.capacity.desiredCapacity,
      securityGroup: this.loadBalancer.instanceSecurityGroup,
      instanceProfile: identity.instanceProfile,
      targetGroup: this.target.targetGroup,
      userData,
      healthCheckGracePeriod: Duration.seconds(settings.healthCheckGracePeriod),
      scaling: settings.scaling ? fleetScaling(settings.scaling) : undefined,
    });

    // The preview rule puts the target group behind the load balancer, so health checks run from
    // the first instance on.
    this.fleet.group.node.addDependency(this.target.previewRule);

    this.gate = new HealthGate(this, releaseScopedId('Gate', release), {
      group: this.fleet.group,
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
        paths: settings.smoke.paths,
        expectedStatuses: settings.smoke.expectedStatuses,
        timeout: Duration.seconds(settings.smoke.timeout),
        resultParameterName: smokeResultParameterName(app, envName, release),
        after: this.gate,
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
      });
    }

    // The cutover: the listener forwards to the release only after the gate and the smoke checks.
    this.loadBalancer.serve(this.target.targetGroup, [...beforeCutover, ...(this.scalingHold ? [this.scalingHold] : [])]);
    startScalingAfter(this.fleet, [this.loadBalancer.listener.node.defaultChild as IDependable]);

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
        after: this.loadBalancer.listener.node.defaultChild as IDependable,
      });
    }

    this.liveRelease = new LiveReleasePointer(this, 'LiveRelease', {
      parameterName: liveReleaseParameterName(app, envName),
      release,
      after: this.bake ?? (this.loadBalancer.listener.node.defaultChild as IDependable),
    });

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
      description: `The release before its cutover: send the header ${settings.preview.header}: ${release}`,
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
