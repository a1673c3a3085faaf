// CloudFormation: the environment stack's status, its resources and why they failed, and the call
// that continues a rollback stuck in UPDATE_ROLLBACK_FAILED.
import {
  CloudFormationClient,
  ContinueUpdateRollbackCommand,
  DescribeStacksCommand,
  paginateDescribeStackEvents,
  paginateListStackResources,
} from '@aws-sdk/client-cloudformation';

export { CloudFormationClient };

/** One resource of a stack as ListStackResources reports it. */
export interface StackResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId?: string;
  readonly status: string;
  readonly reason?: string;
}

/** The stack's status; undefined when no stack has that name (DescribeStacks answers ValidationError). */
export async function stackStatus(cfn: CloudFormationClient, stackName: string): Promise<string | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0]?.StackStatus;
  } catch (err) {
    if ((err as Error).name === 'ValidationError' && /does not exist/.test((err as Error).message)) return undefined;
    throw err;
  }
}

/**
 * Every resource of the stack, every page of ListStackResources: DescribeStackResources stops at
 * 100 resources, fewer than an environment stack can hold.
 */
export async function stackResources(cfn: CloudFormationClient, stackName: string): Promise<StackResource[]> {
  const resources: StackResource[] = [];
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: stackName })) {
    for (const r of page.StackResourceSummaries ?? []) {
      resources.push({
        logicalId: r.LogicalResourceId ?? '',
        type: r.ResourceType ?? '',
        physicalId: r.PhysicalResourceId,
        status: r.ResourceStatus ?? '',
        reason: r.ResourceStatusReason,
      });
    }
  }
  return resources;
}

/**
 * The newest failure reason of each resource since the stack's last update began, from
 * DescribeStackEvents (newest first): the events stop paging at the stack's own UPDATE_IN_PROGRESS.
 */
export async function failureReasons(cfn: CloudFormationClient, stackName: string): Promise<Map<string, string>> {
  const reasons = new Map<string, string>();
  for await (const page of paginateDescribeStackEvents({ client: cfn }, { StackName: stackName })) {
    for (const e of page.StackEvents ?? []) {
      if (e.ResourceType === 'AWS::CloudFormation::Stack' && e.ResourceStatus === 'UPDATE_IN_PROGRESS') return reasons;
      const id = e.LogicalResourceId ?? '';
      if (e.ResourceStatus?.endsWith('_FAILED') && e.ResourceStatusReason && !reasons.has(id)) reasons.set(id, e.ResourceStatusReason);
    }
  }
  return reasons;
}

/** ContinueUpdateRollback, skipping these resources (logical ids). */
export async function continueUpdateRollback(cfn: CloudFormationClient, stackName: string, skip: readonly string[]): Promise<void> {
  await cfn.send(new ContinueUpdateRollbackCommand({ StackName: stackName, ...(skip.length ? { ResourcesToSkip: [...skip] } : {}) }));
}
