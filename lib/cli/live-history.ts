// The SSM calls of `greenlight rollback`: the live-release parameter's history, and whether a release's AMI is recorded.
import { paginateGetParameterHistory, type SSMClient } from '@aws-sdk/client-ssm';
import { isParameterNotFound } from '../ssm-parameter';
import type { LiveReleaseVersion } from './previous-release';

/** Every version of the parameter, oldest first; empty when it does not exist. */
export async function readLiveHistory(client: SSMClient, parameterName: string): Promise<LiveReleaseVersion[]> {
  const versions: LiveReleaseVersion[] = [];
  try {
    for await (const page of paginateGetParameterHistory({ client }, { Name: parameterName, MaxResults: 50 })) {
      for (const p of page.Parameters ?? []) {
        if (p.Value === undefined || p.Version === undefined) continue;
        versions.push({ version: p.Version, release: p.Value, changedAt: p.LastModifiedDate });
      }
    }
  } catch (err) {
    if (isParameterNotFound(err)) return [];
    throw err;
  }
  return versions;
}
