// Whether publishing an AMI under a release creates the pointer, leaves it, or must refuse.
import { UserError } from '../errors';

export type PublishAction = 'create' | 'unchanged';

/** A release names one AMI for good: re-publishing the same AMI is a no-op, another AMI is refused. */
export function decidePublish(parameterName: string, current: string | undefined, amiId: string): PublishAction {
  if (current === undefined) return 'create';
  if (current === amiId) return 'unchanged';
  throw new UserError(
    `release already published: ${parameterName} points at ${current}, not ${amiId}; ` +
      'bake under a new release id instead of overwriting one that may already be deployed',
  );
}
