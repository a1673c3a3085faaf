// The smoke checks' verdict as a pure function: (per-path results, expected statuses) -> verdict.
// The AWS handler and the local rehearsal request the paths through the preview route their own
// way and share this decision and its wording.

/** What one request through the preview route gave. */
export interface SmokeResult {
  /** The path requested, e.g. `/orders/`. */
  readonly path: string;
  /** The HTTP status, when an answer came. */
  readonly status?: number;
  /** Why no answer came: `timed out after 10s`, `connect ECONNREFUSED ...`. */
  readonly error?: string;
  /** The start of the answer's body, for the failure message. */
  readonly bodyExcerpt?: string;
  /** A redirect's target, as the answer gave it. */
  readonly location?: string;
  /** The paths redirects on the same site led to from `path`, in order; the status is the last one's. */
  readonly redirects?: readonly string[];
}

/** Redirects a smoke check follows from one path, as a browser would. */
export const MAX_REDIRECTS = 5;

/**
 * Where a redirect leads on the same site (a relative Location, or one on `host`), as the path to
 * request next; undefined for another site, or a scheme change to https the check cannot follow.
 */
export function sameSiteRedirect(location: string, fromPath: string, baseUrl: string): string | undefined {
  const base = new URL(fromPath, baseUrl);
  let target: URL;
  try {
    target = new URL(location, base);
  } catch {
    return undefined;
  }
  return target.host === base.host && target.protocol === base.protocol ? `${target.pathname}${target.search}` : undefined;
}

export interface SmokeVerdict {
  readonly verdict: 'pass' | 'fail';
  /** `smoke: GET /orders/ answered 500 (expected 200): "Traceback ..."` on failure. */
  readonly message: string;
  /** The results that did not answer as expected, in request order. */
  readonly failures: readonly SmokeResult[];
}

/** Characters of a body quoted in a failure message. */
export const BODY_EXCERPT_LENGTH = 120;

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", nbsp: ' ' };
const decode = (text: string) => text.replace(/&(amp|lt|gt|quot|#39|#x27|nbsp);/g, (_, name: string) => ENTITIES[name]);
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/**
 * What an answer's body says, on one line: for an HTML page its title (Django's debug page titles
 * the exception, `TemplateDoesNotExist at /`, and gives its value), else its text without markup;
 * any other body as it starts, whitespace collapsed. Cut to `length` characters.
 */
export function bodyExcerpt(body: string, length = BODY_EXCERPT_LENGTH): string {
  let line = oneLine(body);
  if (/^\s*</.test(body)) {
    const title = oneLine(decode(/<title[^>]*>([\s\S]*?)<\/title>/i.exec(body)?.[1] ?? ''));
    const value = oneLine(decode(/<pre class="exception_value">([\s\S]*?)<\/pre>/i.exec(body)?.[1] ?? ''));
    const text = body
      .replace(/<(script|style|head)\b[\s\S]*?<\/\1>/gi, '\n')
      .replace(/<[^>]*>/g, '\n')
      .split('\n')
      .map((l) => oneLine(decode(l)))
      .filter((l) => l !== '')
      .join(' ');
    line = title ? (value ? `${title}: ${value}` : title) : text;
  }
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}

/**
 * Whether a status matches a load-balancer style matcher: `200`, `200,202` or `200-299`.
 * Throws on a malformed matcher, naming it (the settings schema rejects those before a deploy).
 */
export function statusMatches(matcher: string, status: number): boolean {
  if (!/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(matcher)) {
    throw new Error(`smoke expectedStatuses: ${JSON.stringify(matcher)} is not a matcher such as "200", "200,202" or "200-299"`);
  }
  return matcher.split(',').some((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return status >= from && status <= to;
  });
}

function describeFailure(result: SmokeResult, expected: string): string {
  const asked = [result.path, ...(result.redirects ?? [])].join(' -> ');
  if (result.status === undefined) return `GET ${asked} failed: ${result.error ?? 'no answer'}`;
  const body = result.bodyExcerpt ? `: ${JSON.stringify(result.bodyExcerpt)}` : '';
  return `GET ${asked} answered ${result.status} (expected ${expected})${body}`;
}

/** Pass when every path answered with an expected status; otherwise name the first failure and count the rest. */
export function evaluateSmoke(results: readonly SmokeResult[], expectedStatuses: string): SmokeVerdict {
  if (results.length === 0) {
    // An empty check proves nothing; the settings require at least one path.
    return { verdict: 'fail', message: 'smoke: no paths were requested', failures: [] };
  }
  const failures = results.filter((r) => r.status === undefined || !statusMatches(expectedStatuses, r.status));
  if (failures.length === 0) {
    const paths = results.map((r) => r.path).join(', ');
    return { verdict: 'pass', message: `smoke: ${results.length}/${results.length} paths answered ${expectedStatuses} (${paths})`, failures };
  }
  const more = failures.length > 1 ? ` (+${failures.length - 1} more of ${results.length} paths failed)` : '';
  return { verdict: 'fail', message: `smoke: ${describeFailure(failures[0], expectedStatuses)}${more}`, failures };
}
