// EC2: the images this account owns under a name, for release-ami --find-baked.
import { DescribeImagesCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';

export async function ownImagesNamed(client: EC2Client, name: string): Promise<Image[]> {
  const out = await client.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: [name] }] }));
  return out.Images ?? [];
}
