// Whether publishing an AMI under a release creates the pointer, leaves it, or must refuse.
import { UserError } from '../errors';

/** What publish-ami did with the release's AMI parameter. */
export type PublishAction = 'created' | 'unchanged';

/**
 * A release names one AMI for good: true when the parameter does not exist yet and is to be
 * created, false when it already names this AMI (re-publishing is a no-op); another AMI is refused.
 */
export function needsPublish(parameterName: string, current: string | undefined, amiId: string): boolean {
  if (current === undefined) return true;
  if (current === amiId) return false;
  throw new UserError(
    `release already published: ${parameterName} points at ${current}, not ${amiId}; ` +
      'bake under a new release id instead of overwriting one that may already be deployed',
  );
}
