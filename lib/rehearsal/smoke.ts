// Smoke checks, run locally: each configured path requested through HAProxy's preview route (the
// preview header naming the new release), judged by the same pure verdict as the AWS handler.
import * as http from 'node:http';
import { PREVIEW_KEY_HEADER } from '../preview/key';
import { bodyExcerpt, evaluateSmoke, MAX_REDIRECTS, sameSiteRedirect, type SmokeResult, type SmokeVerdict } from '../smoke/evaluate';
import type { SmokeReport } from './report';
import type { Stage } from './stage';

export interface SmokeRunProps {
  /** The listener. */
  readonly host: string;
  readonly port: number;
  /** The site's public name, as a person's browser would send it. */
  readonly hostHeader: string;
  /** The preview header and the release it names, and the release's preview key. */
  readonly preview: { readonly header: string; readonly release: string; readonly key?: string };
  readonly paths: readonly string[];
  /** A matcher: "200", "200,202" or "200-299". */
  readonly expectedStatuses: string;
  readonly timeoutMs: number;
}

/** One smoke request, plus which backend and server answered it (HAProxy's served-by header). */
export interface SmokeRequest extends SmokeResult {
  readonly servedBy?: string;
}

export interface SmokeRun {
  readonly verdict: SmokeVerdict;
  readonly requests: readonly SmokeRequest[];
}

// A body excerpt needs only the start of the answer.
const BODY_LIMIT = 4096;

function request(props: SmokeRunProps, path: string): Promise<SmokeRequest> {
  return new Promise((resolve) => {
    const headers = {
      host: props.hostHeader,
      [props.preview.header]: props.preview.release,
      ...(props.preview.key ? { [PREVIEW_KEY_HEADER]: props.preview.key } : {}),
    };
    const req = http.get({ host: props.host, port: props.port, path, headers, agent: false, timeout: props.timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < BODY_LIMIT) body += chunk;
      });
      res.on('end', () => {
        const servedBy = res.headers['x-greenlight-served-by'];
        const location = res.headers.location;
        resolve({
          path,
          status: res.statusCode ?? 0,
          bodyExcerpt: bodyExcerpt(body),
          ...(location ? { location } : {}),
          ...(typeof servedBy === 'string' ? { servedBy } : {}),
        });
      });
      res.on('error', (err) => resolve({ path, error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${props.timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ path, error: err.message }));
  });
}

/** One path, following redirects on the same site as a browser would (as the AWS smoke check does). */
async function followed(props: SmokeRunProps, path: string): Promise<SmokeRequest> {
  const redirects: string[] = [];
  let result = await request(props, path);
  while (result.status !== undefined && result.status >= 300 && result.status < 400 && result.location && redirects.length < MAX_REDIRECTS) {
    const next = sameSiteRedirect(result.location, redirects.at(-1) ?? path, `http://${props.hostHeader}`);
    if (next === undefined) break;
    redirects.push(next);
    result = await request(props, next);
  }
  return redirects.length > 0 ? { ...result, path, redirects } : result;
}

/** Requests every path in order, then judges them together. */
export async function runSmoke(props: SmokeRunProps): Promise<SmokeRun> {
  const requests: SmokeRequest[] = [];
  for (const path of props.paths) requests.push(await followed(props, path));
  return { verdict: evaluateSmoke(requests, props.expectedStatuses), requests };
}

/** The smoke phase, when the environment has smoke checks: each path through the preview route to green. */
export async function smokeGreen(stage: Stage, frontend: { address: string; port: number }): Promise<SmokeReport | undefined> {
  const { settings } = stage.o;
  if (!settings.smoke) return undefined;
  const run = await runSmoke({
    host: frontend.address,
    port: frontend.port,
    hostHeader: stage.hostHeader,
    preview: { header: settings.preview.header, release: stage.greenRelease, key: stage.previewKeys.get(stage.greenRelease) },
    paths: settings.smoke.paths,
    expectedStatuses: settings.smoke.expectedStatuses,
    // A per-request bound, not a phase duration: not scaled.
    timeoutMs: settings.smoke.timeout * 1000,
  });
  stage.mark(`smoke ${run.verdict.verdict}`, run.verdict.message);
  return { verdict: run.verdict.verdict, message: run.verdict.message, requests: run.requests };
}
