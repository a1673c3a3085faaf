// `greenlight publish-ami`: records a baked AMI under its release in SSM Parameter Store.
import { createSsmClient, type SSMClient } from '../aws/clients';
import { createAmiParameter, getParameterValue } from '../aws/ssm';
import { cdkJsonPath, readCdkJson } from '../config/project';
import { configSchema } from '../config/schema';
import { UserError } from '../errors';
import { amiOption, releaseOption } from '../options';
import { amiParameterName } from '../ssm-paths';
import { needsPublish, type PublishAction } from './decide';
import { type BakedAmi, readManifest } from './manifest';

export interface PublishAmiOptions {
  /** Packer's manifest (packer/manifest.json); or give `ami`. */
  readonly manifest?: string;
  /**
   * An AMI baked elsewhere and shared with this account, recorded in this account's region: how an
   * environment in another account gets the release's AMI parameter.
   */
  readonly ami?: string;
  readonly release: string;
  readonly app: string;
  /** AWS_REGION when set; otherwise the AMI's own region. Required with `ami`. */
  readonly region?: string;
  /** @default an SSMClient with the SDK's default configuration in the AMI's region */
  readonly client?: SSMClient;
  /** @default 20 reads, 1.5 s apart */
  readonly confirm?: ConfirmPolicy;
}

/** How long to wait for SSM's asynchronous check that the AMI exists in this account. */
export interface ConfirmPolicy {
  readonly attempts: number;
  readonly delayMs: number;
}

const DEFAULT_CONFIRM: ConfirmPolicy = { attempts: 20, delayMs: 1500 };

/**
 * SSM answers PutParameter for an aws:ec2:image before it has checked that the AMI exists in this
 * account and region, and drops the parameter if it does not. Read it back so that a typo, or an
 * AMI not shared with this account, fails here rather than at deploy time.
 */
async function confirmCreated(client: SSMClient, parameterName: string, baked: BakedAmi, policy: ConfirmPolicy): Promise<void> {
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    const value = await getParameterValue(client, parameterName);
    if (value !== undefined) {
      needsPublish(parameterName, value, baked.amiId);
      return;
    }
    if (attempt < policy.attempts) await new Promise((resolve) => setTimeout(resolve, policy.delayMs));
  }
  throw new UserError(
    `SSM did not keep ${parameterName} = ${baked.amiId}: the AMI is not available to this account in ${baked.region} ` +
      '(a typo, another region, or not shared with this account: see ami_users and kms_key_id in packer/)',
  );
}

export interface PublishAmiResult {
  readonly parameterName: string;
  readonly amiId: string;
  readonly region: string;
  readonly action: PublishAction;
}

/** `--app`, or else context.app in the cdk.json of `projectDir`. */
export function resolveApp(explicit: string | undefined, projectDir = '.'): string {
  let app: unknown = explicit;
  let source = '--app';
  if (app === undefined) {
    const file = cdkJsonPath(projectDir);
    source = `context.app in ${file}`;
    try {
      app = readCdkJson(projectDir).context.app;
    } catch {
      app = undefined;
    }
    if (app === undefined) throw new UserError(`--app is required: no context.app found in ${file}`);
  }
  const parsed = configSchema.shape.app.safeParse(app);
  if (!parsed.success) throw new UserError(`${source}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

function bakedAmi(options: PublishAmiOptions): BakedAmi {
  if ((options.manifest === undefined) === (options.ami === undefined)) {
    throw new UserError('give either --manifest <file> (after a bake) or --ami <id> (an AMI shared from the bake account)');
  }
  if (options.manifest !== undefined) return readManifest(options.manifest, options.region);
  const amiId = amiOption(options.ami) ?? '';
  if (!options.region) throw new UserError('--ami needs a region: set AWS_REGION to the region the AMI is in');
  return { amiId, region: options.region };
}

export async function publishAmi(options: PublishAmiOptions): Promise<PublishAmiResult> {
  const release = releaseOption(options.release, 'the release id the AMI was baked for');
  const baked = bakedAmi(options);
  if (baked.release !== undefined && baked.release !== release) {
    throw new UserError(
      `--release ${release}: the manifest's last build was baked as release ${JSON.stringify(baked.release)}`,
    );
  }
  const parameterName = amiParameterName(options.app, release);
  const client = options.client ?? createSsmClient(baked.region);
  const result = (action: PublishAction): PublishAmiResult => ({ parameterName, amiId: baked.amiId, region: baked.region, action });

  if (!needsPublish(parameterName, await getParameterValue(client, parameterName), baked.amiId)) {
    return result('unchanged');
  }
  if (await createAmiParameter(client, parameterName, baked.amiId, `AMI of ${options.app} release ${release}`)) {
    await confirmCreated(client, parameterName, baked, options.confirm ?? DEFAULT_CONFIRM);
    return result('created');
  }
  // Someone published this release between our read and our write: same rules against their value.
  needsPublish(parameterName, await getParameterValue(client, parameterName), baked.amiId);
  return result('unchanged');
}
