/**
 * Construct id of a per-release resource. Deriving the id from the release gives every release
 * new logical ids, so CloudFormation creates the new resources and deletes the previous
 * release's in its cleanup phase, after everything else has succeeded.
 */
export const releaseScopedId = (kind: string, release: string): string => `${kind}-${release}`;
