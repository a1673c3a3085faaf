// publish-ami's SSM write; its reads go through lib/ssm-parameter.ts.
import { ParameterAlreadyExists, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';

/** Creates the parameter; false when another writer created it first. Never overwrites. */
export async function createAmiParameter(client: SSMClient, name: string, amiId: string, description: string): Promise<boolean> {
  try {
    await client.send(
      new PutParameterCommand({
        Name: name,
        Value: amiId,
        Type: 'String',
        // SSM checks that the AMI exists, so a typo cannot become a release.
        DataType: 'aws:ec2:image',
        Overwrite: false,
        Description: description,
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ParameterAlreadyExists || (err as Error).name === 'ParameterAlreadyExists') return false;
    throw err;
  }
}
