// Reads the AMI id that Packer's manifest post-processor recorded for the last build.
import { readFileSync } from 'node:fs';
import { UserError } from '../errors';
import { AMI_PATTERN } from '../config/release';

export interface BakedAmi {
  readonly region: string;
  readonly amiId: string;
  /** The release the template was built with (custom_data.release), when recorded. */
  readonly release?: string;
}

interface ManifestBuild {
  readonly artifact_id?: unknown;
  readonly custom_data?: { readonly release?: unknown };
}

/**
 * The last build's artifact. `artifact_id` is `region:ami-…`, or a comma-separated list when the
 * image was copied to more regions; `region` then picks one.
 */
export function parseManifest(text: string, file: string, region?: string): BakedAmi {
  let manifest: { builds?: unknown };
  try {
    manifest = JSON.parse(text) as { builds?: unknown };
  } catch (err) {
    throw new UserError(`--manifest ${file}: not valid JSON (${(err as Error).message})`);
  }
  const builds = manifest?.builds;
  if (!Array.isArray(builds) || builds.length === 0) {
    throw new UserError(`--manifest ${file}: no "builds" recorded; expected the output of Packer's manifest post-processor`);
  }
  const last = builds[builds.length - 1] as ManifestBuild;
  const artifactId = last.artifact_id;
  if (typeof artifactId !== 'string' || artifactId === '') {
    throw new UserError(`--manifest ${file}: the last build has no artifact_id`);
  }
  const artifacts = artifactId.split(',').map((entry) => {
    const [artifactRegion, amiId, ...rest] = entry.trim().split(':');
    if (!artifactRegion || amiId === undefined || rest.length > 0) {
      throw new UserError(`--manifest ${file}: artifact_id ${JSON.stringify(artifactId)} is not "region:ami-…"`);
    }
    if (!AMI_PATTERN.test(amiId)) {
      throw new UserError(`--manifest ${file}: AMI id ${JSON.stringify(amiId)} is not valid; expected "ami-" and 8 or 17 hex digits`);
    }
    return { region: artifactRegion, amiId };
  });
  const release = typeof last.custom_data?.release === 'string' ? last.custom_data.release : undefined;
  const regions = artifacts.map((a) => a.region).join(', ');
  if (region !== undefined) {
    const match = artifacts.find((a) => a.region === region);
    if (!match) {
      throw new UserError(`--manifest ${file}: no AMI for AWS_REGION=${region}; the last build made AMIs in ${regions}`);
    }
    return { ...match, release };
  }
  if (artifacts.length > 1) {
    throw new UserError(`--manifest ${file}: the last build made AMIs in ${regions}; set AWS_REGION to choose one`);
  }
  return { ...artifacts[0], release };
}

export function readManifest(file: string, region?: string): BakedAmi {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`--manifest ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseManifest(text, file, region);
}
