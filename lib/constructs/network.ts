import { type CfnResource, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { oneShotServiceTimeout } from '../time-limits';

/** The Lambda timeout of aws-cdk-lib's own custom-resource providers (CustomResourceProvider's default). */
const CDK_PROVIDER_TIMEOUT = 900;

/** An existing VPC, described fully so that synth needs no lookup. */
export interface ImportedVpcAttributes {
  /** The VPC's id. */
  readonly vpcId: string;
  /** Its availability zones, one per subnet in each list below, in the same order. */
  readonly availabilityZones: readonly string[];
  /** Subnets for the internet-facing load balancer. */
  readonly publicSubnetIds: readonly string[];
  /** Subnets with egress (a NAT gateway) for the instances and the smoke checks. */
  readonly privateSubnetIds: readonly string[];
}

export interface NetworkProps {
  /**
   * Availability zones of a VPC created for the environment; ignored with `existingVpc`.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * Import this VPC instead of creating one.
   * @default - a VPC is created
   */
  readonly existingVpc?: ImportedVpcAttributes;
}

/**
 * The environment's VPC: public subnets for the load balancer, private ones with egress for the
 * instances. A created VPC logs all its flows, accepted and rejected, for three months.
 */
export class Network extends Construct {
  /** The VPC, created or imported. */
  readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs;
    if (maxAzs !== undefined && !Token.isUnresolved(maxAzs) && !(Number.isInteger(maxAzs) && maxAzs >= 1)) {
      throw new Error(`maxAzs: ${maxAzs} must be a whole number of at least 1`);
    }
    if (props.existingVpc) {
      const existing = props.existingVpc;
      this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: existing.vpcId,
        availabilityZones: [...existing.availabilityZones],
        publicSubnetIds: [...existing.publicSubnetIds],
        privateSubnetIds: [...existing.privateSubnetIds],
      });
      return;
    }
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });
    // Rejected and accepted flows both matter when a health check cannot reach an instance.
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(
        new logs.LogGroup(this, 'FlowLogGroup', { retention: logs.RetentionDays.THREE_MONTHS }),
      ),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    // aws-cdk-lib's custom resource that empties the default security group gets a ServiceTimeout
    // like greenlight's own, rather than CloudFormation's hour.
    const restrict = vpc.node.tryFindChild('RestrictDefaultSecurityGroupCustomResource')?.node.defaultChild as CfnResource | undefined;
    restrict?.addPropertyOverride('ServiceTimeout', String(oneShotServiceTimeout(CDK_PROVIDER_TIMEOUT)));
    this.vpc = vpc;
  }
}
