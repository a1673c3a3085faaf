// The SmokeCheck custom resource's properties: the contract between the construct, which writes
// them into the template, and the handler. CloudFormation passes numbers as strings.
import { requiredText, wholeNumber } from '../resource-properties';

export interface SmokeResourceProperties {
  readonly Release: string;
  /** `http://<load balancer DNS name>:80` or `https://…:443`. */
  readonly BaseUrl: string;
  /** The preview header's name; the value sent is the release. */
  readonly Header: string;
  readonly Paths: readonly string[];
  readonly ExpectedStatuses: string;
  readonly TimeoutSeconds: string | number;
  readonly ResultParameter: string;
  /** The release's preview key, a SecureString the checks send as X-Greenlight-Preview-Key; none for an unkeyed rule. */
  readonly KeyParameter?: string;
}

export interface SmokeRun {
  readonly release: string;
  readonly baseUrl: string;
  readonly header: string;
  readonly paths: readonly string[];
  readonly expectedStatuses: string;
  readonly timeoutMs: number;
  readonly resultParameter: string;
  readonly keyParameter?: string;
}

const text = (props: Record<string, unknown>, key: keyof SmokeResourceProperties): string => requiredText('smoke check', props, key);

/** Reads and checks the properties; every error names the property and echoes the value. */
export function parseSmokeProperties(props: Record<string, unknown> | undefined): SmokeRun {
  const p = props ?? {};
  const paths = p.Paths;
  if (!Array.isArray(paths) || paths.length === 0 || !paths.every((x) => typeof x === 'string' && x.startsWith('/'))) {
    throw new Error(`smoke check property Paths: ${JSON.stringify(paths)} must be a list of absolute paths`);
  }
  const seconds = wholeNumber('smoke check', p, 'TimeoutSeconds', 1);
  const baseUrl = text(p, 'BaseUrl');
  if (!/^https?:\/\/[^/]+$/.test(baseUrl)) {
    throw new Error(`smoke check property BaseUrl: ${JSON.stringify(baseUrl)} must be http(s)://host:port with no path`);
  }
  return {
    release: text(p, 'Release'),
    baseUrl,
    header: text(p, 'Header'),
    paths: paths as string[],
    expectedStatuses: text(p, 'ExpectedStatuses'),
    timeoutMs: seconds * 1000,
    resultParameter: text(p, 'ResultParameter'),
    ...(p.KeyParameter === undefined ? {} : { keyParameter: text(p, 'KeyParameter') }),
  };
}
