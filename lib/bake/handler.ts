// The BakeWindow custom resource's Lambda: onEvent and isComplete for the Provider framework.
// The bake runs on Create alone, after the cutover: each poll reads the release target group's
// figures, decides, and keeps its progress in SSM. A breach throws, and CloudFormation's rollback
// points the listener back at the previous release. Update and Delete succeed at once.
import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse,
  CdkCustomResourceResponse,
} from 'aws-lambda';
import { type BakeClients, createBakeClients } from '../aws/clients';
import { isTransient } from '../aws/errors';
import { observeBake } from '../aws/observe';
import { readParameter, writeParameter } from '../aws/ssm';
import { evaluateBake } from './evaluate';
import { parseBakeProperties } from './properties';
import { type BakeRecord, parseBakeRecord } from './record';

export interface BakeDependencies {
  readonly clients: () => BakeClients;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** Receives one JSON line per call; never the event, which carries the pre-signed ResponseURL. */
  readonly log: (line: string) => void;
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

export function bakeHandlers(deps: BakeDependencies) {
  const log = (fields: Record<string, unknown>) => deps.log(JSON.stringify({ source: 'greenlight-bake', ...fields }));
  return {
    async onEvent(event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse> {
      if (event.RequestType === 'Create') {
        const run = parseBakeProperties(event.ResourceProperties);
        log({ requestType: 'Create', release: run.release, targetGroup: run.targetGroup, policy: run.policy });
        return { PhysicalResourceId: run.progressParameter };
      }
      log({ requestType: event.RequestType, physicalResourceId: event.PhysicalResourceId, action: 'none' });
      return { PhysicalResourceId: event.PhysicalResourceId };
    },

    async isComplete(event: CdkCustomResourceIsCompleteEvent): Promise<CdkCustomResourceIsCompleteResponse> {
      if (event.RequestType !== 'Create') return { IsComplete: true };
      const run = parseBakeProperties(event.ResourceProperties);
      const clients = deps.clients();
      const at = deps.now();
      const base = { requestType: 'Create', release: run.release };

      let stored: BakeRecord | undefined;
      try {
        stored = parseBakeRecord(await readParameter(clients, run.progressParameter));
      } catch (err) {
        if (!isTransient(err)) throw err;
        log({ ...base, verdict: 'wait', message: `AWS API error, retrying: ${errorText(err)}` });
        return { IsComplete: false };
      }
      // A record from an earlier deploy of the same release (one that rolled back) is not this run's.
      const previous = stored?.runId === event.RequestId ? stored.progress : undefined;
      const since = previous?.startedAt ?? at;
      const observation =
        previous && previous.verdict !== 'wait'
          ? { at, requests: 0, errors5xx: 0, healthyHosts: 0, unhealthyHosts: 0, alarms: [] }
          : await observeBake(clients, { ...run, alarms: run.policy.alarms }, since, at);
      const decision = evaluateBake(observation, run.policy, previous);

      if (decision.progress !== previous) {
        const record: BakeRecord = {
          runId: event.RequestId,
          release: run.release,
          durationMs: run.policy.durationMs,
          settleMs: run.policy.settleMs ?? 0,
          maxErrorRate: run.policy.maxErrorRate,
          progress: decision.progress,
        };
        try {
          await writeParameter(clients, run.progressParameter, JSON.stringify(record));
        } catch (err) {
          if (!isTransient(err)) throw err;
          log({ ...base, warning: `progress not saved: ${errorText(err)}` });
        }
      }
      log({ ...base, poll: decision.progress.polls, verdict: decision.verdict, message: decision.message });
      if (decision.verdict === 'fail') throw new Error(decision.message);
      if (decision.verdict === 'pass') return { IsComplete: true, Data: { Verdict: 'pass', Message: decision.message } };
      return { IsComplete: false };
    },
  };
}

let clients: BakeClients | undefined;
const lambda = bakeHandlers({
  clients: () => (clients ??= createBakeClients()),
  now: () => Date.now(),
  log: (line) => console.log(line),
});

export const onEvent = lambda.onEvent;
export const isComplete = lambda.isComplete;
