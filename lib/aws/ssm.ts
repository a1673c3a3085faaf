// SSM Parameter Store: the gate's, smoke's and bake's records, the live-release pointer and its
// history, and the AMI parameters publish-ami writes.
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  paginateGetParameterHistory,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { AwsClients } from './clients';

export const isParameterNotFound = (err: unknown): boolean =>
  err instanceof ParameterNotFound || (err as Error | undefined)?.name === 'ParameterNotFound';

/** The value of a String parameter, or undefined when it does not exist. */
export async function getParameterValue(client: SSMClient, name: string): Promise<string | undefined> {
  try {
    const out = await client.send(new GetParameterCommand({ Name: name }));
    return out.Parameter?.Value;
  } catch (err) {
    if (isParameterNotFound(err)) return undefined;
    throw err;
  }
}

/** getParameterValue with the gate's clients. */
export const readParameter = (clients: AwsClients, name: string): Promise<string | undefined> =>
  getParameterValue(clients.ssm, name);

/**
 * Overwrites a String parameter. Intelligent-Tiering keeps it Standard (free, 4 KB) and moves it
 * to Advanced (8 KB) only when a large fleet's progress needs the room.
 */
export async function writeParameter(clients: AwsClients, name: string, value: string): Promise<void> {
  await clients.ssm.send(
    new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true, Tier: 'Intelligent-Tiering' }),
  );
}

/** Writes a SecureString with the account's default SSM key; its value never leaves this call. */
export async function writeSecureParameter(client: SSMClient, name: string, value: string, description: string): Promise<void> {
  await client.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Overwrite: true, Description: description }));
}

/** A SecureString's value, decrypted; undefined when it does not exist. */
export async function readSecureParameter(client: SSMClient, name: string): Promise<string | undefined> {
  try {
    return (await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;
  } catch (err) {
    if (isParameterNotFound(err)) return undefined;
    throw err;
  }
}

/** Deletes a parameter; one that is already gone is fine. */
export async function deleteParameter(client: SSMClient, name: string): Promise<void> {
  try {
    await client.send(new DeleteParameterCommand({ Name: name }));
  } catch (err) {
    if (!isParameterNotFound(err)) throw err;
  }
}

/** Creates an AMI parameter; false when another writer created it first. Never overwrites. */
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

/** One version of a parameter. */
export interface ParameterVersion {
  readonly version: number;
  readonly value: string;
  readonly changedAt?: Date;
}

/** Every version of the parameter, oldest first; empty when it does not exist. */
export async function readParameterHistory(client: SSMClient, name: string): Promise<ParameterVersion[]> {
  const versions: ParameterVersion[] = [];
  try {
    for await (const page of paginateGetParameterHistory({ client }, { Name: name, MaxResults: 50 })) {
      for (const p of page.Parameters ?? []) {
        if (p.Value === undefined || p.Version === undefined) continue;
        versions.push({ version: p.Version, value: p.Value, changedAt: p.LastModifiedDate });
      }
    }
  } catch (err) {
    if (isParameterNotFound(err)) return [];
    throw err;
  }
  return versions;
}
