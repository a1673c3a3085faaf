// The preflight's vCPU quota reads against moto over real HTTP: the account's running instances with
// their vCPUs (DescribeInstances; moto leaves the CPU options out, so each instance's type's default
// vCPUs are read, as for any instance without them) and an instance type's (DescribeInstanceTypes).
// moto's Service Quotas holds only VPC quotas, so L-1216C47A is NoSuchResourceException there: the
// check then has no quota to hold the fleet to and says nothing; the quota's value and the refusal
// are proved with aws-sdk-client-mock in preflight.test.ts.
import { EC2Client } from '@aws-sdk/client-ec2';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { describe, expect, it } from 'vitest';
import { instanceTypeVcpus, runningOnDemandInstances } from '../../lib/aws/ec2';
import { ec2Quota } from '../../lib/aws/service-quotas';
import { STANDARD_VCPU_QUOTA_CODE } from '../../lib/cli/preflight-checks';
import { amazonLinuxImage, ec2, MOTO, type Moto, useMoto } from '../helpers/moto';

if (!MOTO.available) console.warn(`skipping the preflight moto test: ${MOTO.skipReason}`);

describe.skipIf(!MOTO.available)('the vCPU quota reads against moto', () => {
  let moto!: Moto;
  useMoto((started) => {
    moto = started;
  });

  it("reads the running instances' vCPUs, an instance type's, and no EC2 quota", async () => {
    const image = await amazonLinuxImage(moto);
    await ec2(moto, 'RunInstances', { ImageId: image, InstanceType: 't3.small', MinCount: '2', MaxCount: '2' });
    await ec2(moto, 'RunInstances', { ImageId: image, InstanceType: 'm5.xlarge', MinCount: '1', MaxCount: '1' });
    const client = new EC2Client({});
    const running = await runningOnDemandInstances(client);
    expect(running.map((i) => `${i.instanceType} ${i.vcpus}`).sort()).toEqual(['m5.xlarge 4', 't3.small 2', 't3.small 2']);
    expect(await instanceTypeVcpus(client, 't3.small')).toBe(2);
    expect(await instanceTypeVcpus(client, 'm5.xlarge')).toBe(4);
    expect(await ec2Quota(new ServiceQuotasClient({}), STANDARD_VCPU_QUOTA_CODE)).toBeUndefined();
  });
});
