// Every SSM parameter name greenlight reads or writes, in one place.

/** Written by `greenlight publish-ami` after the bake; read by the stack at deploy time. */
export const amiParameterName = (app: string, release: string): string => `/greenlight/${app}/releases/${release}/ami-id`;

/** The release the environment serves; changed by CloudFormation only after the gate passes. */
export const liveReleaseParameterName = (app: string, env: string): string => `/greenlight/${app}/${env}/live-release`;

/** The last deploy's migration check: whether the release before it can still serve (rollback safety). */
export const schemaRecordParameterName = (app: string, env: string): string => `/greenlight/${app}/${env}/schema-record`;

/** The gate's progress for one release, read by `greenlight watch`. */
export const gateProgressParameterName = (app: string, env: string, release: string): string =>
  `/greenlight/${app}/${env}/gate/${release}`;

/** The smoke checks' result for one release, read by `greenlight status`, `watch` and `deploy`. */
export const smokeResultParameterName = (app: string, env: string, release: string): string =>
  `/greenlight/${app}/${env}/smoke/${release}`;

/** The bake window's progress for one release, with its live figures. */
export const bakeProgressParameterName = (app: string, env: string, release: string): string =>
  `/greenlight/${app}/${env}/bake/${release}`;

/** Progressive traffic's progress for one release: its step, weights and running figures. */
export const trafficProgressParameterName = (app: string, env: string, release: string): string =>
  `/greenlight/${app}/${env}/traffic/${release}`;

/**
 * The preview key of one release, a SecureString: the smoke checks send it, `greenlight status
 * --preview-key` prints it. Written and deleted by the release's PreviewKey resource.
 */
export const previewKeyParameterName = (app: string, env: string, release: string): string =>
  `/greenlight/${app}/${env}/preview/${release}`;

/** Prefix of the application's configuration, loaded into the env file at first boot. */
export const configPrefix = (app: string, env: string): string => `/greenlight/${app}/${env}/config/`;

/** The prefix of greenlight's own tags (app, environment, release): a user tag may not use it. */
export const GREENLIGHT_TAG_PREFIX = 'greenlight:';
/** The tag that marks an Auto Scaling group with the release it runs. */
export const RELEASE_TAG = `${GREENLIGHT_TAG_PREFIX}release`;
