// One GET through the load balancer's preview route. The only network I/O of the smoke checks.
import * as http from 'node:http';
import * as https from 'node:https';
import { bodyExcerpt, MAX_REDIRECTS, sameSiteRedirect, type SmokeResult } from './evaluate';

/** Bytes of a body read for the excerpt; the rest is not waited for. */
const BODY_BYTES = 4096;

export interface SmokeRequest {
  /** `http://host:port` or `https://host:port`. */
  readonly baseUrl: string;
  readonly path: string;
  /** Headers sent, e.g. the preview header. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

/**
 * Requests one path; resolves to its status and the start of its body, or to the error when no
 * answer came in time. Never rejects. Over HTTPS the certificate is not checked: it names the
 * application's domain, not the load balancer's own DNS name the check connects to, and the
 * request carries nothing secret.
 */
export async function requestPath(req: SmokeRequest): Promise<SmokeResult> {
  // A redirect on the same site is followed as a browser would, with the same headers (the preview
  // header keeps every hop on the new release); the verdict is the last answer's.
  const redirects: string[] = [];
  let result = await requestOne({ ...req });
  while (result.status !== undefined && result.status >= 300 && result.status < 400 && result.location && redirects.length < MAX_REDIRECTS) {
    const next = sameSiteRedirect(result.location, redirects.at(-1) ?? req.path, req.baseUrl);
    if (next === undefined) break;
    redirects.push(next);
    result = await requestOne({ ...req, path: next });
  }
  return redirects.length > 0 ? { ...result, path: req.path, redirects } : result;
}

function requestOne(req: SmokeRequest): Promise<SmokeResult> {
  const url = new URL(req.path, req.baseUrl);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: SmokeResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const request = client.request(
      url,
      { method: 'GET', headers: { ...req.headers }, rejectUnauthorized: false, timeout: req.timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          res.destroy();
          const location = res.headers.location;
          done({ path: req.path, status: res.statusCode, bodyExcerpt: bodyExcerpt(Buffer.concat(chunks).toString('utf8')), ...(location ? { location } : {}) });
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= BODY_BYTES) finish();
        });
        res.on('end', finish);
        res.on('error', finish);
      },
    );
    const timer = setTimeout(() => {
      request.destroy();
      done({ path: req.path, error: `no answer within ${Math.round(req.timeoutMs / 1000)}s` });
    }, req.timeoutMs);
    request.on('timeout', () => request.destroy(new Error(`no answer within ${Math.round(req.timeoutMs / 1000)}s`)));
    request.on('error', (err) => done({ path: req.path, error: err.message }));
    request.on('close', () => clearTimeout(timer));
    request.end();
  });
}
