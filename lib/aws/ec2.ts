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

/** A running or starting On-Demand instance: its type and its vCPUs. */
export interface RunningInstance {
  readonly instanceType: string;
  readonly vcpus: number;
}

/** The default vCPUs of each of these instance types, by type: DescribeInstanceTypes, 100 types a call. */
async function defaultVcpus(client: EC2Client, types: readonly string[]): Promise<Map<string, number>> {
  const vcpus = new Map<string, number>();
  for (let i = 0; i < types.length; i += 100) {
    const out = await client.send(new DescribeInstanceTypesCommand({ InstanceTypes: types.slice(i, i + 100) as _InstanceType[] }));
    for (const t of out.InstanceTypes ?? []) if (t.InstanceType) vcpus.set(t.InstanceType, t.VCpuInfo?.DefaultVCpus ?? 0);
  }
  return vcpus;
}

/**
 * The account's pending and running On-Demand instances in the client's region, every page of
 * DescribeInstances: Spot instances count against other quotas, so they are left out. Each counts
 * its cores × threads per core, or its type's default vCPUs when DescribeInstances leaves its CPU
 * options out.
 */
export async function runningOnDemandInstances(client: EC2Client): Promise<RunningInstance[]> {
  const found: Array<{ instanceType: string; vcpus?: number }> = [];
  const pages = paginateDescribeInstances({ client }, { Filters: [{ Name: 'instance-state-name', Values: ['pending', 'running'] }], MaxResults: 1000 });
  for await (const page of pages) {
    for (const i of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      if (i.InstanceLifecycle === 'spot') continue;
      const cores = i.CpuOptions?.CoreCount;
      found.push({ instanceType: i.InstanceType ?? '', vcpus: cores ? cores * (i.CpuOptions?.ThreadsPerCore ?? 1) : undefined });
    }
  }
  const unknown = [...new Set(found.filter((i) => i.vcpus === undefined).map((i) => i.instanceType))];
  const byType = unknown.length ? await defaultVcpus(client, unknown) : new Map<string, number>();
  return found.map((i) => ({ instanceType: i.instanceType, vcpus: i.vcpus ?? byType.get(i.instanceType) ?? 0 }));
}
