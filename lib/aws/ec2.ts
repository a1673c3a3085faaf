// EC2: the images this account owns under a name, for release-ami --find-baked; an image's state,
// the subnets' free addresses, the running instances' vCPUs and an instance type's, for the deploy's preflight.
import {
  DescribeImagesCommand,
  DescribeInstanceTypesCommand,
  DescribeSubnetsCommand,
  type EC2Client,
  type Image,
  type _InstanceType,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';

export async function ownImagesNamed(client: EC2Client, name: string): Promise<Image[]> {
  const out = await client.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }));
  return out.Images ?? [];
}

/** One image as this account sees it in the client's region: its state, or undefined when it cannot see it. */
export async function imageState(client: EC2Client, imageId: string): Promise<string | undefined> {
  try {
    const out = await client.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    return out.Images?.[0]?.State;
  } catch (err) {
    // An id that does not exist here, or is not shared with this account, is an error rather than an empty list.
    if (/^InvalidAMIID\./.test((err as Error).name)) return undefined;
    throw err;
  }
}

/** The free addresses of each subnet, by id. */
export async function subnetFreeAddresses(client: EC2Client, subnetIds: readonly string[]): Promise<Map<string, number>> {
  const out = await client.send(new DescribeSubnetsCommand({ SubnetIds: [...subnetIds] }));
  return new Map((out.Subnets ?? []).map((s) => [s.SubnetId ?? '', s.AvailableIpAddressCount ?? 0]));
}

/** The private subnets of a VPC a stack created (aws-cdk-lib tags them with their type), by id. */
export async function stackPrivateSubnets(client: EC2Client, stackName: string): Promise<Map<string, number>> {
  const out = await client.send(
    new DescribeSubnetsCommand({
      Filters: [
        { Name: 'tag:aws:cloudformation:stack-name', Values: [stackName] },
        { Name: 'tag:aws-cdk:subnet-type', Values: ['Private'] },
      ],
    }),
  );
  return new Map((out.Subnets ?? []).map((s) => [s.SubnetId ?? '', s.AvailableIpAddressCount ?? 0]));
}

/** The vCPUs of an instance type (DescribeInstanceTypes); undefined when this region does not offer it. */
export async function instanceTypeVcpus(client: EC2Client, instanceType: string): Promise<number | undefined> {
  try {
    const out = await client.send(new DescribeInstanceTypesCommand({ InstanceTypes: [instanceType as _InstanceType] }));
    return out.InstanceTypes?.[0]?.VCpuInfo?.DefaultVCpus;
  } catch (err) {
    if ((err as Error).name === 'InvalidInstanceType') return undefined;
    throw err;
  }
}

/** A running or starting On-Demand instance: its type and its vCPUs (cores × threads per core). */
export interface RunningInstance {
  readonly instanceType: string;
  readonly vcpus: number;
}

/**
 * The account's pending and running On-Demand instances in the client's region, every page of
 * DescribeInstances: Spot instances count against other quotas, so they are left out.
 */
export async function runningOnDemandInstances(client: EC2Client): Promise<RunningInstance[]> {
  const instances: RunningInstance[] = [];
  const pages = paginateDescribeInstances({ client }, { Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }], MaxResults: 1000 });
  for await (const page of pages) {
    for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      if (i.InstanceLifecycle === 'spot') continue;
      instances.push({ instanceType: i.InstanceType ?? '', vcpus: (i.CpuOptions?.CoreCount ?? 0) * (i.CpuOptions?.ThreadsPerCore ?? 1) });
    }
  }
  return instances;
}
