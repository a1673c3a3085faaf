// A bake rerun of the same release: the recorded AMI, else the earlier bake's image, recorded; never a second bake.
import { DescribeImagesCommand, EC2Client, type Image } from '@aws-sdk/client-ec2';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseBakedImage } from '../../lib/ami/baked-image';
import { findBakedAmi } from '../../lib/cli/release-ami';
import { UserError } from '../../lib/errors';

const APP = 'greenlight-demo';
const RELEASE = '2026.11.22-3f9c2ab';
const AMI = 'ami-0123456789abcdef0';
const PARAMETER = `/greenlight/${APP}/releases/${RELEASE}/ami-id`;
const image = (over: Partial<Image> = {}): Image => ({
  ImageId: AMI,
  Name: `${APP}-${RELEASE}`,
  State: 'available',
  Tags: [
    { Key: 'greenlight:app', Value: APP },
    { Key: 'greenlight:release', Value: RELEASE },
  ],
  ...over,
});

describe('chooseBakedImage', () => {
  it('takes the available image named and tagged for the release', () => {
    expect(chooseBakedImage([image()], APP, RELEASE)).toBe(AMI);
  });

  it('finds nothing when no image has the name', () => {
    expect(chooseBakedImage([], APP, RELEASE)).toBeUndefined();
  });

  it.each([
    ['still pending', [image({ State: 'pending' })], `an earlier bake of release ${RELEASE} left ${AMI} in state pending; rerun the job when it is available`],
    ['failed', [image({ State: 'failed' })], `left ${AMI} in state failed; deregister it, then rerun the job`],
    ['named alike but not ours', [image({ Tags: [] })], `AMI name ${APP}-${RELEASE} is taken by ${AMI}, which is not tagged greenlight:app=${APP}, greenlight:release=${RELEASE}`],
    ['two of them', [image(), image({ ImageId: 'ami-0aaaaaaaaaaaaaaaa' })], `release ${RELEASE} has 2 AMIs named`],
  ])('stops the job with one line when the image is %s', (_, images, message) => {
    expect(() => chooseBakedImage(images, APP, RELEASE)).toThrow(UserError);
    expect(() => chooseBakedImage(images, APP, RELEASE)).toThrow(message);
  });
});

describe('findBakedAmi', () => {
  const ssm = mockClient(SSMClient);
  const ec2 = mockClient(EC2Client);
  afterEach(() => {
    ssm.reset();
    ec2.reset();
  });
  const clients = () => ({ ssm: new SSMClient({ region: 'eu-west-1' }), ec2: new EC2Client({ region: 'eu-west-1' }), region: 'eu-west-1', confirm: { attempts: 2, delayMs: 0 } });
  const notFound = () => new ParameterNotFound({ message: 'not found', $metadata: {} });

  it('returns the recorded AMI without looking for images', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Value: AMI } });
    await expect(findBakedAmi(APP, RELEASE, clients())).resolves.toBe(AMI);
    expect(ec2.commandCalls(DescribeImagesCommand)).toHaveLength(0);
  });

  it("records the earlier bake's image, never overwriting, when the bake stopped before recording it", async () => {
    ssm.on(GetParameterCommand).rejectsOnce(notFound()).rejectsOnce(notFound()).resolves({ Parameter: { Name: PARAMETER, Value: AMI } });
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    ec2.on(DescribeImagesCommand).resolves({ Images: [image()] });
    await expect(findBakedAmi(APP, RELEASE, clients())).resolves.toBe(AMI);
    expect(ec2.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual({ Owners: ['self'], Filters: [{ Name: 'name', Values: [`${APP}-${RELEASE}`] }] });
    expect(ssm.commandCalls(PutParameterCommand)[0].args[0].input).toMatchObject({ Name: PARAMETER, Value: AMI, Overwrite: false, DataType: 'aws:ec2:image' });
  });

  it('finds nothing, and writes nothing, when the release was never baked', async () => {
    ssm.on(GetParameterCommand).rejects(notFound());
    ec2.on(DescribeImagesCommand).resolves({ Images: [] });
    await expect(findBakedAmi(APP, RELEASE, clients())).resolves.toBeUndefined();
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it('turns a refused DescribeImages into one line', async () => {
    ssm.on(GetParameterCommand).rejects(notFound());
    ec2.on(DescribeImagesCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    await expect(findBakedAmi(APP, RELEASE, clients())).rejects.toThrow(`looking for an AMI named ${APP}-${RELEASE}: AccessDenied: not authorized`);
  });
});
