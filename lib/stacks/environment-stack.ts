import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { EnvironmentSettings } from '../config/schema';
import { CapacityProbe } from '../constructs/capacity-probe';
import { HealthGate } from '../constructs/health-gate';
import { InstanceRole } from '../constructs/instance-role';
import { LiveReleasePointer } from '../constructs/live-release';
import { LoadBalancer } from '../constructs/load-balancer';
import { Network } from '../constructs/network';
import { ReleaseFleet } from '../constructs/release-fleet';
import { releaseScopedId } from '../constructs/release-id';
import { amiParameterName, configPrefix, gateProgressParameterName, liveReleaseParameterName } from '../ssm-paths';
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

/** One environment (`<app>-<env>`): composition only. */
export class EnvironmentStack extends Stack {
  readonly loadBalancer: LoadBalancer;
  readonly fleet: ReleaseFleet;
  readonly capacity: CapacityProbe;
  readonly gate: HealthGate;
  readonly liveRelease: LiveReleasePointer;

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
      healthCheck: {
        path: hc.path,
        interval: Duration.seconds(hc.interval),
        timeout: Duration.seconds(hc.timeout),
        healthyThreshold: hc.healthyThreshold,
        unhealthyThreshold: hc.unhealthyThreshold,
        matcher: hc.matcher,
      },
      deregistrationDelay: Duration.seconds(settings.deregistrationDelay),
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

    // Per-release ids: each deploy Creates probe, fleet and gate; a rollback only Deletes them.
    this.capacity = new CapacityProbe(this, releaseScopedId('Capacity', release), {
      release,
      liveReleaseParameterName: liveReleaseParameterName(app, envName),
      minCapacity: settings.capacity.min,
      desiredCapacity: settings.capacity.desired,
      maxCapacity: settings.capacity.max,
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
      targetGroup: this.loadBalancer.targetGroup,
      userData,
      healthCheckGracePeriod: Duration.seconds(settings.healthCheckGracePeriod),
    });

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

    this.liveRelease = new LiveReleasePointer(this, 'LiveRelease', {
      parameterName: liveReleaseParameterName(app, envName),
      release,
      after: this.gate,
    });
  }
}
