// The SDK clients greenlight uses, built in one place. Every client takes the SDK's defaults, so
// AWS_ENDPOINT_URL, AWS_REGION and AWS_RETRY_MODE work as everywhere else; tests replace the SDK
// underneath with aws-sdk-client-mock.
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SSMClient } from '@aws-sdk/client-ssm';

export type { EC2Client, SSMClient };

export interface AwsClients {
  readonly autoScaling: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly ssm: SSMClient;
}

/** The timeouts and attempt count of every call a client makes. */
export interface CallBudget {
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
}

/**
 * The retry budget of one call: a gate poll makes at most four calls one after another (progress
 * read, group, target health with activities, progress write), each at most `maxAttempts` ×
 * (connection + request timeout) plus the SDK's backoff: about 4 × 2 × 5 s = 40 s of the 60 s.
 * A call that still fails is a transient error: the gate waits for its next poll.
 */
export const CALL_BUDGET: CallBudget = { connectionTimeoutMs: 1500, requestTimeoutMs: 3500, maxAttempts: 2 } as const;

/** The SDK configuration every Lambda client shares: its region, and the call budget's timeouts and attempts. */
function budgetedConfig(region: string | undefined, budget: CallBudget) {
  return {
    ...(region ? { region } : {}),
    maxAttempts: budget.maxAttempts,
    // Without these, a hung connection waits for the function's own timeout and ends the run as an error.
    // Newer handlers only warn at the request timeout unless told to throw.
    requestHandler: { connectionTimeout: budget.connectionTimeoutMs, requestTimeout: budget.requestTimeoutMs, throwOnRequestTimeout: true },
  };
}

/** Clients with the SDK's standard configuration; `region` only when the caller knows better than the environment. */
export function createClients(region?: string, budget: CallBudget = CALL_BUDGET): AwsClients {
  const config = budgetedConfig(region, budget);
  return {
    autoScaling: new AutoScalingClient(config),
    elb: new ElasticLoadBalancingV2Client(config),
    ssm: new SSMClient(config),
  };
}

/** The bake's clients: the gate's, and CloudWatch for the target group's figures and the alarms. */
export interface BakeClients extends AwsClients {
  readonly cloudWatch: CloudWatchClient;
}

export function createBakeClients(region?: string, budget: CallBudget = CALL_BUDGET): BakeClients {
  return { ...createClients(region, budget), cloudWatch: new CloudWatchClient(budgetedConfig(region, budget)) };
}

/** An SSM client with the SDK's defaults, for publish-ami and release-ami. */
export const createSsmClient = (region?: string): SSMClient => new SSMClient({ region });

/** An EC2 client with the SDK's defaults, for release-ami --find-baked. */
export const createEc2Client = (region?: string): EC2Client => new EC2Client({ region });

/** An EC2 client in the environment's region, unless AWS_REGION says otherwise (as createEnvironmentClients). */
export const createEnvironmentEc2Client = (environmentRegion: string): EC2Client => createEc2Client(process.env.AWS_REGION || environmentRegion);

/** The CLI's clients for an environment: AWS_REGION when set, otherwise the environment's region. */
export const createEnvironmentClients = (environmentRegion: string): AwsClients => createClients(process.env.AWS_REGION || environmentRegion);

/** A CloudFormation client in the environment's region, unless AWS_REGION says otherwise, for recover. */
export const createEnvironmentCloudFormationClient = (environmentRegion: string): CloudFormationClient =>
  new CloudFormationClient({ region: process.env.AWS_REGION || environmentRegion });

/** A Service Quotas client in the environment's region, unless AWS_REGION says otherwise, for the preflight. */
export const createEnvironmentServiceQuotasClient = (environmentRegion: string): ServiceQuotasClient =>
  new ServiceQuotasClient({ region: process.env.AWS_REGION || environmentRegion });
