// Reading one SSM parameter, shared by the gate, the CLI and publish-ami: its value, or undefined
// when it does not exist.
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';

export const isParameterNotFound = (err: unknown): boolean =>
  err instanceof ParameterNotFound || (err as Error | undefined)?.name === 'ParameterNotFound';

export async function getParameterValue(client: SSMClient, name: string): Promise<string | undefined> {
  try {
    const out = await client.send(new GetParameterCommand({ Name: name }));
    return out.Parameter?.Value;
  } catch (err) {
    if (isParameterNotFound(err)) return undefined;
    throw err;
  }
}
