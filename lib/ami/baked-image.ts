// Which image an earlier bake of a release left behind: the AMI a rerun records instead of baking
// again, since Packer cannot reuse a taken AMI name. Pure.
import { UserError } from '../errors';

/** The fields of an EC2 image the choice looks at. */
export interface ImageSummary {
  readonly ImageId?: string;
  readonly Name?: string;
  readonly State?: string;
  readonly Tags?: readonly { readonly Key?: string; readonly Value?: string }[];
}

/** The AMI name the Packer template gives a release. */
export const bakedImageName = (app: string, release: string): string => `${app}-${release}`;

/**
 * The earlier bake's available image, or undefined when there is none. An image that is still
 * pending, or failed, stops the job: baking again would fail on its name, and replacing an image
 * that may be deployed somewhere is never done here.
 */
export function chooseBakedImage(images: readonly ImageSummary[], app: string, release: string): string | undefined {
  const name = bakedImageName(app, release);
  const tag = (image: ImageSummary, key: string) => image.Tags?.find((t) => t.Key === key)?.Value;
  const ours = images.filter((i) => i.Name === name && tag(i, 'greenlight:app') === app && tag(i, 'greenlight:release') === release);
  if (ours.length === 0) {
    const foreign = images.find((i) => i.Name === name);
    if (foreign) {
      throw new UserError(
        `AMI name ${name} is taken by ${foreign.ImageId}, which is not tagged greenlight:app=${app}, greenlight:release=${release}; ` +
          'rename or deregister it, or bake under a new release id',
      );
    }
    return undefined;
  }
  if (ours.length > 1) throw new UserError(`release ${release} has ${ours.length} AMIs named ${name}: ${ours.map((i) => i.ImageId).join(', ')}; keep one`);
  const [image] = ours;
  if (image.State === 'available') return image.ImageId;
  throw new UserError(
    `an earlier bake of release ${release} left ${image.ImageId} in state ${image.State ?? 'unknown'}; ` +
      (image.State === 'pending' ? 'rerun the job when it is available' : 'deregister it, then rerun the job'),
  );
}
