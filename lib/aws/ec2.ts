// EC2: the images this account owns under a name, for release-ami --find-baked; an image's state
// and the subnets' free addresses, for the deploy's preflight.
import { DescribeImagesCommand, DescribeSubnetsCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';

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
