// `greenlight publish-ami`: records a baked AMI under its release in SSM Parameter Store.
import { readFileSync } from 'node:fs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { UserError } from '../errors';
import { RELEASE_PATTERN } from '../config/release';
import { configSchema } from '../config/schema';
import { amiParameterName } from '../ssm-paths';
import { readManifest } from './manifest';
import { decidePublish } from './decide';
import { createAmiParameter, getParameter } from './ssm';

export interface PublishAmiOptions {
  /** Packer's manifest (packer/manifest.json). */
  readonly manifest: string;
  readonly release: string;
  readonly app: string;
  /** AWS_REGION when set; otherwise the AMI's own region. */
  readonly region?: string;
  /** @default an SSMClient with the SDK's default configuration in the AMI's region */
  readonly client?: SSMClient;
}

export interface PublishAmiResult {
  readonly parameterName: string;
  readonly amiId: string;
  readonly region: string;
  readonly action: PublishAction;
}

type PublishAction = 'created' | 'unchanged';

export function validateRelease(release: string): string {
  if (!RELEASE_PATTERN.test(release)) {
    throw new UserError(
      `--release ${JSON.stringify(release)}: not a valid release id; expected 1–63 letters, digits, dots or hyphens, starting with a letter or digit`,
    );
  }
  return release;
}

/** `--app`, or else cdk.json's context.app. */
export function resolveApp(explicit: string | undefined, cdkJsonPath: string): string {
  let app: unknown = explicit;
  let source = '--app';
  if (app === undefined) {
    source = `context.app in ${cdkJsonPath}`;
    try {
      app = (JSON.parse(readFileSync(cdkJsonPath, 'utf8')) as { context?: { app?: unknown } }).context?.app;
    } catch {
      app = undefined;
    }
    if (app === undefined) throw new UserError(`--app is required: no context.app found in ${cdkJsonPath}`);
  }
  const parsed = configSchema.shape.app.safeParse(app);
  if (!parsed.success) throw new UserError(`${source}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

export async function publishAmi(options: PublishAmiOptions): Promise<PublishAmiResult> {
  const release = validateRelease(options.release);
  const baked = readManifest(options.manifest, options.region);
  if (baked.release !== undefined && baked.release !== release) {
    throw new UserError(
      `--release ${release}: the manifest's last build was baked as release ${JSON.stringify(baked.release)}`,
    );
  }
  const parameterName = amiParameterName(options.app, release);
  const client = options.client ?? new SSMClient({ region: baked.region });
  const result = (action: PublishAction): PublishAmiResult => ({ parameterName, amiId: baked.amiId, region: baked.region, action });

  if (decidePublish(parameterName, await getParameter(client, parameterName), baked.amiId) === 'unchanged') {
    return result('unchanged');
  }
  if (await createAmiParameter(client, parameterName, baked.amiId, `AMI of ${options.app} release ${release}`)) {
    return result('created');
  }
  // Someone published this release between our read and our write: same rules against their value.
  decidePublish(parameterName, await getParameter(client, parameterName), baked.amiId);
  return result('unchanged');
}
