// The HealthGate custom resource's Lambda: onEvent and isComplete for the Provider framework.
// onEvent only checks the properties; isComplete polls. The gate runs on Create alone: an Update
// or a Delete (a rollback, or the cleanup after the next release) succeeds at once and never
// looks at a fleet, so a rollback cannot stall on a gate.
import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse,
  CdkCustomResourceResponse,
} from 'aws-lambda';
import { type AwsClients, createClients } from '../aws/clients';
import { isTransient } from '../aws/errors';
import { observeGroup } from '../aws/observe';
import { readParameter, writeParameter } from '../aws/ssm';
import { evaluate, freshProgress } from './evaluate';
import { parseRecord, serialiseRecord, summarise, type ProgressRecord } from './progress-record';
import { parseGateProperties } from './properties';

export interface GateDependencies {
  readonly clients: () => AwsClients;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** Receives one JSON line per call; never the event, which carries the pre-signed ResponseURL. */
  readonly log: (line: string) => void;
}

export interface GateHandlers {
  onEvent(event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse>;
  isComplete(event: CdkCustomResourceIsCompleteEvent): Promise<CdkCustomResourceIsCompleteResponse>;
}

/**
 * Polls in a row whose progress could not be saved before the gate fails. Without its progress
 * the gate cannot count consecutive healthy polls or replaced instances, so it must not run on.
 */
const MAX_UNSAVED_POLLS = 3;

/** Room left for the reason in CloudFormation's 4 KB response, after the framework's own fields. */
const MAX_REASON_CHARS = 2500;

const truncate = (message: string, parameter: string): string =>
  message.length <= MAX_REASON_CHARS
    ? message
    : `${message.slice(0, MAX_REASON_CHARS)}… (the full diagnosis is in SSM parameter ${parameter})`;

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

export function gateHandlers(deps: GateDependencies): GateHandlers {
  const log = (fields: Record<string, unknown>) => deps.log(JSON.stringify({ source: 'greenlight-health-gate', ...fields }));

  return {
    async onEvent(event) {
      if (event.RequestType === 'Create') {
        // Bad properties fail the Create here, before any polling.
        const run = parseGateProperties(event.ResourceProperties);
        log({ requestType: 'Create', release: run.release, group: run.groupName, policy: run.policy });
        // Every isComplete call receives this: the gate's start survives even progress that was never saved.
        return { PhysicalResourceId: run.progressParameter, Data: { StartedAt: String(deps.now()) } };
      }
      log({ requestType: event.RequestType, physicalResourceId: event.PhysicalResourceId, action: 'none' });
      return { PhysicalResourceId: event.PhysicalResourceId };
    },

    async isComplete(event) {
      if (event.RequestType !== 'Create') return { IsComplete: true };
      const run = parseGateProperties(event.ResourceProperties);
      const clients = deps.clients();
      const at = deps.now();
      const base = { requestType: 'Create', release: run.release, group: run.groupName };

      let stored: ProgressRecord | undefined;
      try {
        stored = parseRecord(await readParameter(clients, run.progressParameter));
      } catch (err) {
        if (!isTransient(err)) throw err;
        log({ ...base, verdict: 'wait', message: `AWS API error, retrying: ${errorText(err)}` });
        return { IsComplete: false };
      }
      // A record from an earlier deploy of the same release (one that rolled back) is not this run's.
      const startedAt = Number((event as { Data?: { StartedAt?: unknown } }).Data?.StartedAt);
      const saved = stored?.runId === event.RequestId ? stored.progress : undefined;
      const previous = saved ?? (Number.isFinite(startedAt) && startedAt > 0 ? freshProgress(startedAt) : undefined);

      const observation =
        previous && previous.verdict !== 'wait'
          ? { at, instances: [], targetGroups: [], targetHealth: [], activities: [] }
          : await observeGroup(clients, run.groupName, at);
      const decision = evaluate(observation, run.policy, previous);

      if (decision.progress !== previous) {
        const record: ProgressRecord = {
          runId: event.RequestId,
          release: run.release,
          groupName: run.groupName,
          expectedInstances: run.policy.expectedInstances,
          timeoutMs: run.policy.timeoutMs,
          observed: summarise(observation),
          progress: decision.progress,
        };
        try {
          await writeParameter(clients, run.progressParameter, serialiseRecord(record));
        } catch (err) {
          const where = `the gate's progress to SSM parameter ${run.progressParameter}`;
          if (!isTransient(err)) throw new Error(`Could not save ${where}: ${errorText(err)}`);
          // Losing one progress write costs one poll's count; it must not cost the verdict...
          log({ ...base, warning: `progress not saved: ${errorText(err)}` });
          // ...but a gate that keeps losing them would start afresh every poll and never decide.
          const lastSaved = saved?.lastPollAt ?? previous?.startedAt;
          const unsaved = lastSaved === undefined ? 1 : Math.floor((at - lastSaved) / run.policy.pollIntervalMs);
          if (decision.verdict === 'wait' && unsaved >= MAX_UNSAVED_POLLS) {
            throw new Error(
              `Could not save ${where} for ${unsaved} polls in a row (last error: ${errorText(err)}); without it the gate ` +
                'cannot count consecutive healthy polls. Check SSM PutParameter throttling and quotas in this account and region.',
            );
          }
        }
      }

      log({
        ...base,
        poll: decision.progress.polls,
        elapsedSeconds: Math.round((at - decision.progress.startedAt) / 1000),
        consecutiveHealthy: decision.progress.consecutiveHealthy,
        verdict: decision.verdict,
        message: decision.message,
      });
      // CloudFormation keeps a status reason short; the full text stays in the progress parameter.
      if (decision.verdict === 'fail') throw new Error(truncate(decision.message, run.progressParameter));
      if (decision.verdict === 'pass') return { IsComplete: true, Data: { Verdict: 'pass', Message: decision.message } };
      return { IsComplete: false };
    },
  };
}

let clients: AwsClients | undefined;
const lambda = gateHandlers({
  clients: () => (clients ??= createClients()),
  now: () => Date.now(),
  log: (line) => console.log(line),
});

export const onEvent = lambda.onEvent;
export const isComplete = lambda.isComplete;
