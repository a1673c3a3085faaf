// The SmokeCheck custom resource's Lambda (onEvent only). On Create it requests every path through
// the preview route, side by side, and fails the deploy when one does not answer as expected. An
// Update or a Delete (a rollback, or the next release's cleanup) succeeds at once.
import type { CdkCustomResourceEvent, CdkCustomResourceResponse } from 'aws-lambda';
import { type AwsClients, createClients } from '../aws/clients';
import { isTransient } from '../aws/errors';
import { readSecureParameter, writeParameter } from '../aws/ssm';
import { PREVIEW_KEY_HEADER } from '../preview/key';
import { evaluateSmoke, type SmokeResult } from './evaluate';
import { parseSmokeProperties } from './properties';
import type { SmokeRecord } from './record';
import { requestPath, type SmokeRequest } from './request';

export interface SmokeDependencies {
  readonly clients: () => AwsClients;
  readonly request: (req: SmokeRequest) => Promise<SmokeResult>;
  readonly now: () => number;
  /** Receives one JSON line per call; never the event, which carries the pre-signed ResponseURL. */
  readonly log: (line: string) => void;
}

/** A path that gave no answer at all is asked once more: one lost connection is not a verdict. */
const ATTEMPTS = 2;

export function smokeHandler(deps: SmokeDependencies) {
  const log = (fields: Record<string, unknown>) => deps.log(JSON.stringify({ source: 'greenlight-smoke', ...fields }));
  return async (event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse> => {
    if (event.RequestType !== 'Create') {
      log({ requestType: event.RequestType, physicalResourceId: event.PhysicalResourceId, action: 'none' });
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    const run = parseSmokeProperties(event.ResourceProperties);
    // The key goes into the requests' headers and nowhere else: not the record, not the log.
    const key = run.keyParameter === undefined ? undefined : await readSecureParameter(deps.clients().ssm, run.keyParameter);
    if (run.keyParameter !== undefined && !key) throw new Error(`smoke: the preview key ${run.keyParameter} does not exist; the release's PreviewKey resource writes it`);
    const headers = { [run.header]: run.release, ...(key ? { [PREVIEW_KEY_HEADER]: key } : {}) };
    const ask = async (path: string): Promise<SmokeResult> => {
      let result: SmokeResult = { path, error: 'not requested' };
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        result = await deps.request({ baseUrl: run.baseUrl, path, headers, timeoutMs: run.timeoutMs });
        if (result.status !== undefined) break;
      }
      return result;
    };
    const results = await Promise.all(run.paths.map(ask));
    const decision = evaluateSmoke(results, run.expectedStatuses);
    const record: SmokeRecord = { runId: event.RequestId, release: run.release, at: deps.now(), verdict: decision.verdict, message: decision.message, results };
    try {
      await writeParameter(deps.clients(), run.resultParameter, JSON.stringify(record).slice(0, 8000));
    } catch (err) {
      // The verdict stands without its record; only `greenlight status` misses it.
      if (!isTransient(err)) throw err;
      log({ release: run.release, warning: `result not saved: ${(err as Error).message}` });
    }
    log({ requestType: 'Create', release: run.release, verdict: decision.verdict, message: decision.message, results });
    if (decision.verdict === 'fail') throw new Error(decision.message);
    return { PhysicalResourceId: run.resultParameter, Data: { Verdict: 'pass', Message: decision.message } };
  };
}

let clients: AwsClients | undefined;
export const onEvent = smokeHandler({
  clients: () => (clients ??= createClients()),
  request: requestPath,
  now: () => Date.now(),
  log: (line) => console.log(line),
});
