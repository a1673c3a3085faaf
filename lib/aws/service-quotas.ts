// Service Quotas: the account's quota for running On-Demand Standard instances, in vCPUs, for the
// deploy's preflight.
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';

export { ServiceQuotasClient };

/** The account's applied value of an EC2 quota in the client's region; undefined when Service Quotas has none for it. */
export async function ec2Quota(client: ServiceQuotasClient, quotaCode: string): Promise<number | undefined> {
  try {
    return (await client.send(new GetServiceQuotaCommand({ ServiceCode: 'ec2', QuotaCode: quotaCode }))).Quota?.Value;
  } catch (err) {
    if ((err as Error).name === 'NoSuchResourceException') return undefined;
    throw err;
  }
}
