// An app with its own VPC and load balancer that releases its fleet with greenlight's constructs:
// one release per deploy, gated on its health, cut over atomically, the previous one deleted after.
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import {
  amiParameterName,
  CapacityProbe,
  configPrefix,
  gateProgressParameterName,
  HealthGate,
  InstanceRole,
  INSTANCE_PORT,
  ListenerCutover,
  LiveReleasePointer,
  liveReleaseParameterName,
  ReleaseFleet,
  releaseScopedId,
  ReleaseTargetGroup,
} from 'greenlight';

export interface ShopStackProps extends StackProps {
  /** The application's name in greenlight's SSM paths, e.g. `shop`. */
  readonly app: string;
  /** The environment's name in greenlight's SSM paths, e.g. `web`. */
  readonly envName: string;
  /** The release to deploy; its AMI is published under `amiParameterName(app, release)`. */
  readonly release: string;
}

export class ShopStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly alb: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly target: ReleaseTargetGroup;
  readonly fleet: ReleaseFleet;
  readonly gate: HealthGate;
  readonly cutover: ListenerCutover;

  constructor(scope: Construct, id: string, props: ShopStackProps) {
    super(scope, id, props);
    const { app, envName, release } = props;

    // The app's own network and load balancer, not greenlight's.
    this.vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', { vpc: this.vpc, allowAllOutbound: false });
    const instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', { vpc: this.vpc });
    instanceSecurityGroup.connections.allowFrom(albSecurityGroup, ec2.Port.tcp(INSTANCE_PORT));
    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', { vpc: this.vpc, internetFacing: true, securityGroup: albSecurityGroup });
    // The cutover sets the serving listener's default action; until the first release it answers 503.
    this.listener = this.alb.addListener('Http', {
      port: 80,
      defaultAction: elbv2.ListenerAction.fixedResponse(503, { contentType: 'text/plain', messageBody: 'no release yet' }),
    });
    // Preview rules go on a listener of their own, which never waits for a release.
    const previewListener = this.alb.addListener('Preview', {
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultAction: elbv2.ListenerAction.fixedResponse(404),
    });

    const identity = new InstanceRole(this, 'InstanceRole', { configPrefix: configPrefix(app, envName) });

    // Per-release construct ids: each deploy creates new resources, and CloudFormation deletes the
    // previous release's once this one serves.
    const capacity = new CapacityProbe(this, releaseScopedId('Capacity', release), {
      release,
      liveReleaseParameterName: liveReleaseParameterName(app, envName),
      minCapacity: 2,
      desiredCapacity: 2,
      maxCapacity: 6,
      previewListenerArn: previewListener.listenerArn,
    });
    this.target = new ReleaseTargetGroup(this, releaseScopedId('Target', release), {
      vpc: this.vpc,
      release,
      healthCheck: {
        path: '/healthz',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThreshold: 2,
        unhealthyThreshold: 3,
        matcher: '200',
      },
      deregistrationDelay: Duration.seconds(30),
      listener: previewListener,
      previewPriority: capacity.previewPriority,
    });
    this.fleet = new ReleaseFleet(this, releaseScopedId('Fleet', release), {
      vpc: this.vpc,
      release,
      machineImage: ec2.MachineImage.fromSsmParameter(amiParameterName(app, release)),
      instanceType: new ec2.InstanceType('t3.small'),
      minCapacity: 2,
      maxCapacity: 6,
      desiredCapacity: capacity.desiredCapacity,
      securityGroup: instanceSecurityGroup,
      instanceProfile: identity.instanceProfile,
      targetGroup: this.target.targetGroup,
      // The app is baked into the AMI; nothing to do at boot.
      userData: ec2.UserData.forLinux(),
    });
    // Health checks start with the first instance once the preview rule puts the group behind the load balancer.
    this.fleet.autoScalingGroup.node.addDependency(this.target.previewRule);

    this.gate = new HealthGate(this, releaseScopedId('Gate', release), {
      group: this.fleet.autoScalingGroup,
      release,
      progressParameterName: gateProgressParameterName(app, envName, release),
      expectedInstances: capacity.desiredCapacity,
      timeout: Duration.minutes(10),
    });
    this.cutover = new ListenerCutover(this, 'Cutover', {
      listener: this.listener,
      targetGroup: this.target.targetGroup,
      after: [this.gate],
    });
    new LiveReleasePointer(this, 'LiveRelease', {
      parameterName: liveReleaseParameterName(app, envName),
      release,
      after: this.cutover,
    });

    new CfnOutput(this, 'Url', { value: `http://${this.alb.loadBalancerDnsName}/` });
  }
}
