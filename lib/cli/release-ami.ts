// `greenlight release-ami --release <id>`: the AMI recorded for a release, or nothing when it has not
// been baked. Release jobs use it to bake each release once.
import { SSMClient } from '@aws-sdk/client-ssm';
import { resolveApp } from '../ami/publish';
import { getParameterValue } from '../ssm-parameter';
import { amiParameterName } from '../ssm-paths';
import { explainAwsError } from './environment';
import { releaseOption } from './options';

export async function releaseAmi(app: string, release: string, client: SSMClient = new SSMClient({})): Promise<string | undefined> {
  const name = amiParameterName(app, release);
  return getParameterValue(client, name).catch((err) => explainAwsError(err, `reading ${name}`));
}

export interface ReleaseAmiCommandOptions {
  readonly release?: string;
  readonly app?: string;
}

/** The line to print: the AMI id, or nothing. */
export async function releaseAmiCommand(opts: ReleaseAmiCommandOptions, cdkJsonPath = 'cdk.json'): Promise<string | undefined> {
  const release = releaseOption(opts.release, 'the release whose AMI to look up');
  return releaseAmi(resolveApp(opts.app, cdkJsonPath), release);
}
