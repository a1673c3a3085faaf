// The TrafficSteps custom resource's Lambda: onEvent and isComplete for the Provider framework.
// On Create, after the gate and the smoke checks, it weights the serving listener's default action
// between the live release's target group and the new one, one step at a time, and judges each
// step from CloudWatch. On a failure it puts every request back on the live release before it
// throws; CloudFormation's rollback does the rest. Delete puts the live release back too when a
// run was cut short with the weights still set (a timeout), so the rollback can delete the group.
import type {
  CdkCustomResourceEvent,
  CdkCustomResourceIsCompleteEvent,
  CdkCustomResourceIsCompleteResponse,
  CdkCustomResourceResponse,
} from 'aws-lambda';
import { type BakeClients, createBakeClients } from '../aws/clients';
import { listenerOnPort, setListenerForward } from '../aws/elbv2';
import { isTransient } from '../aws/errors';
import { observeTraffic } from '../aws/observe';
import { readParameter, writeParameter } from '../aws/ssm';
import { parseTrafficProperties, type TrafficRun } from './properties';
import { parseTrafficRecord, type TrafficRecord } from './record';
import { evaluateTrafficStep, startTraffic, stepWeights, type TrafficProgress } from './steps';

export interface TrafficDependencies {
  readonly clients: () => BakeClients;
  /** Epoch milliseconds. */
  readonly now: () => number;
  /** Receives one JSON line per call; never the event, which carries the pre-signed ResponseURL. */
  readonly log: (line: string) => void;
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** `targetgroup/<name>/<id>`, CloudWatch's dimension, from a target group's ARN. */
export const targetGroupDimension = (arn: string): string => arn.slice(arn.indexOf('targetgroup/'));

export function trafficHandlers(deps: TrafficDependencies) {
  const log = (fields: Record<string, unknown>) => deps.log(JSON.stringify({ source: 'greenlight-traffic', ...fields }));

  const weigh = (clients: BakeClients, run: TrafficRun, record: Pick<TrafficRecord, 'listenerArn' | 'liveTargetGroupArn'>, percent: number) => {
    const w = stepWeights(percent);
    return setListenerForward(
      clients,
      record.listenerArn,
      [
        { arn: record.liveTargetGroupArn, weight: w.live },
        { arn: run.targetGroupArn, weight: w.release },
      ],
      run.stickinessSeconds,
    );
  };
  const restoreLive = (clients: BakeClients, record: Pick<TrafficRecord, 'listenerArn' | 'liveTargetGroupArn'>) =>
    setListenerForward(clients, record.listenerArn, [{ arn: record.liveTargetGroupArn, weight: 1 }]);

  const save = async (clients: BakeClients, run: TrafficRun, record: TrafficRecord, base: Record<string, unknown>) => {
    try {
      await writeParameter(clients, run.progressParameter, JSON.stringify(record));
    } catch (err) {
      if (!isTransient(err)) throw err;
      log({ ...base, warning: `progress not saved: ${errorText(err)}` });
    }
  };

  return {
    async onEvent(event: CdkCustomResourceEvent): Promise<CdkCustomResourceResponse> {
      if (event.RequestType === 'Create') {
        const run = parseTrafficProperties(event.ResourceProperties);
        log({ requestType: 'Create', release: run.release, targetGroup: run.targetGroup, policy: run.policy });
        return { PhysicalResourceId: run.progressParameter };
      }
      if (event.RequestType === 'Delete') {
        const run = parseTrafficProperties(event.ResourceProperties);
        const clients = deps.clients();
        const record = parseTrafficRecord(await readParameter(clients, run.progressParameter));
        const listener = record ? await listenerOnPort(clients, run.loadBalancerArn, run.listenerPort) : undefined;
        // Only a forward that still weights this release beside another group is this run's to undo.
        const weighted = listener && listener.targetGroups.length > 1 && listener.targetGroups.some((t) => t.arn === run.targetGroupArn && t.weight > 0);
        if (record && listener && weighted) {
          await restoreLive(clients, { listenerArn: listener.listenerArn, liveTargetGroupArn: record.liveTargetGroupArn });
          log({ requestType: 'Delete', release: run.release, action: 'every request back on the live release', liveTargetGroup: record.liveTargetGroupArn });
        } else {
          log({ requestType: 'Delete', release: run.release, action: 'none' });
        }
        return { PhysicalResourceId: event.PhysicalResourceId };
      }
      log({ requestType: event.RequestType, physicalResourceId: event.PhysicalResourceId, action: 'none' });
      return { PhysicalResourceId: event.PhysicalResourceId };
    },

    async isComplete(event: CdkCustomResourceIsCompleteEvent): Promise<CdkCustomResourceIsCompleteResponse> {
      if (event.RequestType !== 'Create') return { IsComplete: true };
      const run = parseTrafficProperties(event.ResourceProperties);
      const clients = deps.clients();
      const at = deps.now();
      const base = { requestType: 'Create', release: run.release };

      let stored: TrafficRecord | undefined;
      try {
        stored = parseTrafficRecord(await readParameter(clients, run.progressParameter));
      } catch (err) {
        if (!isTransient(err)) throw err;
        log({ ...base, verdict: 'wait', message: `AWS API error, retrying: ${errorText(err)}` });
        return { IsComplete: false };
      }
      // A record from an earlier deploy of the same release (one that rolled back) is not this run's.
      const record = stored?.runId === event.RequestId ? stored : undefined;

      if (!record) {
        const listener = await listenerOnPort(clients, run.loadBalancerArn, run.listenerPort);
        const live = [...(listener?.targetGroups ?? [])].filter((t) => t.arn !== run.targetGroupArn).sort((a, b) => b.weight - a.weight)[0];
        if (!listener || !live) {
          const message = 'traffic: no live release to compare with (a first deploy); the cutover gives the release every request';
          log({ ...base, verdict: 'pass', message });
          return { IsComplete: true, Data: { Verdict: 'pass', Message: message } };
        }
        const fresh: TrafficRecord = {
          runId: event.RequestId,
          release: run.release,
          listenerArn: listener.listenerArn,
          liveTargetGroupArn: live.arn,
          steps: run.policy.steps,
          progress: startTraffic(at, run.policy),
        };
        await weigh(clients, run, fresh, fresh.progress.weight);
        await save(clients, run, fresh, base);
        log({ ...base, step: 1, weights: stepWeights(fresh.progress.weight), liveTargetGroup: live.arn, message: fresh.progress.lastMessage });
        return { IsComplete: false };
      }

      const previous: TrafficProgress = record.progress;
      const observation =
        previous.verdict !== 'wait'
          ? { at, release: { requests: 0, errors5xx: 0 }, live: { requests: 0, errors5xx: 0 }, healthyHosts: 0, unhealthyHosts: 0, alarms: [] }
          : await observeTraffic(
              clients,
              {
                loadBalancer: run.loadBalancer,
                release: run.targetGroup,
                live: targetGroupDimension(record.liveTargetGroupArn),
                releaseTargetGroupArn: run.targetGroupArn,
                alarms: run.policy.limits.alarms,
              },
              previous.stepStartedAt,
              at,
            );
      const decision = evaluateTrafficStep(observation, run.policy, previous);
      const next: TrafficRecord = { ...record, progress: decision.progress };

      // Every request goes back on the live release before the resource fails.
      if (decision.verdict === 'fail') await restoreLive(clients, record);
      if (decision.verdict === 'next') await weigh(clients, run, record, decision.progress.weight);
      if (decision.progress !== previous) await save(clients, run, next, base);
      log({
        ...base,
        poll: decision.progress.polls,
        step: decision.progress.step + 1,
        weights: stepWeights(decision.progress.weight),
        verdict: decision.verdict,
        message: decision.message,
      });
      if (decision.verdict === 'fail') throw new Error(decision.message);
      if (decision.verdict === 'pass') return { IsComplete: true, Data: { Verdict: 'pass', Message: decision.message } };
      return { IsComplete: false };
    },
  };
}

let clients: BakeClients | undefined;
const lambda = trafficHandlers({
  clients: () => (clients ??= createBakeClients()),
  now: () => Date.now(),
  log: (line) => console.log(line),
});

export const onEvent = lambda.onEvent;
export const isComplete = lambda.isComplete;
