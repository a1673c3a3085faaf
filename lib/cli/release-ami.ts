// `greenlight release-ami --release <id>`: the AMI recorded for a release, or nothing when it has not
// been baked. Release jobs use it to bake each release once; with --find-baked, a release whose bake
// made its AMI but never recorded it (a job that stopped in between) gets that AMI recorded instead.
import { bakedImageName, chooseBakedImage } from '../ami/baked-image';
import { publishAmi, resolveApp } from '../ami/publish';
import { createEc2Client, createSsmClient, type EC2Client, type SSMClient } from '../aws/clients';
import { ownImagesNamed } from '../aws/ec2';
import { getParameterValue } from '../aws/ssm';
import { releaseOption } from '../options';
import { amiParameterName } from '../ssm-paths';
import { explainAwsError } from './environment';

export async function releaseAmi(app: string, release: string, client: SSMClient = createSsmClient()): Promise<string | undefined> {
  const name = amiParameterName(app, release);
  return getParameterValue(client, name).catch((err) => explainAwsError(err, `reading ${name}`));
}

export interface ReleaseAmiClients {
  readonly ssm: SSMClient;
  readonly ec2: EC2Client;
  /** The bake region, where the image and its parameter live. */
  readonly region?: string;
  /** Passed to publishAmi; tests shorten its wait. */
  readonly confirm?: { readonly attempts: number; readonly delayMs: number };
}

/** The recorded AMI; otherwise an earlier bake's image of this account, which it then records. */
export async function findBakedAmi(app: string, release: string, clients: ReleaseAmiClients): Promise<string | undefined> {
  const recorded = await releaseAmi(app, release, clients.ssm);
  if (recorded) return recorded;
  const name = bakedImageName(app, release);
  const images = await ownImagesNamed(clients.ec2, name).catch((err) => explainAwsError(err, `looking for an AMI named ${name}`));
  const ami = chooseBakedImage(images, app, release);
  if (!ami) return undefined;
  const published = await publishAmi({ ami, release, app, region: clients.region, client: clients.ssm, confirm: clients.confirm });
  return published.amiId;
}

export interface ReleaseAmiCommandOptions {
  readonly release?: string;
  readonly app?: string;
  readonly findBaked?: boolean;
}

/** The line to print: the AMI id, or nothing. */
export async function releaseAmiCommand(opts: ReleaseAmiCommandOptions, projectDir = '.', region?: string): Promise<string | undefined> {
  const release = releaseOption(opts.release, 'the release whose AMI to look up');
  const app = resolveApp(opts.app, projectDir);
  if (!opts.findBaked) return releaseAmi(app, release);
  return findBakedAmi(app, release, { ssm: createSsmClient(region), ec2: createEc2Client(region), region });
}
