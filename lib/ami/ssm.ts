// The only SSM caller for publish-ami.
import {
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';

/** The parameter's value, or undefined when it does not exist. */
export async function getParameter(client: SSMClient, name: string): Promise<string | undefined> {
  try {
    const out = await client.send(new GetParameterCommand({ Name: name }));
    return out.Parameter?.Value;
  } catch (err) {
    if (err instanceof ParameterNotFound || (err as Error).name === 'ParameterNotFound') return undefined;
    throw err;
  }
}

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
