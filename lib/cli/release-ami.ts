// `greenlight release-ami --release <id>`: the AMI recorded for a release, or nothing when it has not
// been baked. Release jobs use it to bake each release once.
import { SSMClient } from '@aws-sdk/client-ssm';
import { getParameterValue } from '../ssm-parameter';
import { amiParameterName } from '../ssm-paths';
import { explainAwsError } from './environment';

export async function releaseAmi(app: string, release: string, client: SSMClient = new SSMClient({})): Promise<string | undefined> {
  const name = amiParameterName(app, release);
  return getParameterValue(client, name).catch((err) => explainAwsError(err, `reading ${name}`));
}
