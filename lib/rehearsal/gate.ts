// The health gate, run locally: the same pure evaluate() as the Lambda, polled on the same interval,
// fed from HAProxy's runtime API instead of Auto Scaling and ELB. Only the source of observations differs.
import { evaluate } from '../health-gate/evaluate';
import type { GateDecision, GatePolicy, GateProgress, Observation } from '../health-gate/types';
import { newCheckHistory, observationFrom, withCheckHistory, type CheckHistory, type InstanceProcessState } from './haproxy-state';
import type { RuntimeApi } from './runtime-api';

export interface GateRunProps {
  readonly api: RuntimeApi;
  /** The new release's backend: its target group. */
  readonly backend: string;
  /** The new release's instances as the rehearsal launched them. */
  readonly instances: () => readonly InstanceProcessState[];
  readonly policy: GatePolicy;
  /** The group's desired capacity now, read on every poll as the Lambda reads DescribeAutoScalingGroups. */
  readonly desiredCapacity?: () => number;
  /** Progress lines while waiting, printed as the Lambda would log them. */
  readonly log: (line: string) => void;
  /** Called after every poll (the flapping scenario and the timeline listen here). */
  readonly onPoll?: (observation: Observation, decision: GateDecision) => void;
}

export interface GateRun {
  readonly decision: GateDecision;
  readonly polls: number;
  readonly maxConsecutiveHealthy: number;
  /** Epoch ms of the first poll that found every new instance healthy. */
  readonly firstAllHealthyAt?: number;
  /** New instances the load balancer has marked healthy at least once. */
  readonly everHealthy: ReadonlySet<string>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One observation; a runtime API error is transient, as an AWS throttle is for the Lambda. */
export async function observe(
  api: RuntimeApi,
  backend: string,
  instances: readonly InstanceProcessState[],
  seenHealthy: ReadonlySet<string>,
  history: CheckHistory = newCheckHistory(),
): Promise<Observation> {
  const at = Date.now();
  try {
    const servers = withCheckHistory(await api.servers(), history);
    return observationFrom({ at, backend, instances, servers, seenHealthy });
  } catch (err) {
    return { at, instances: [], targetGroups: [backend], targetHealth: [], activities: [], transientError: (err as Error).message };
  }
}

export async function runGate(props: GateRunProps): Promise<GateRun> {
  let progress: GateProgress | undefined;
  let maxConsecutiveHealthy = 0;
  let firstAllHealthyAt: number | undefined;
  let lastLine = '';
  const everHealthy = new Set<string>();
  const history = newCheckHistory();
  for (;;) {
    const began = Date.now();
    const observed = await observe(props.api, props.backend, props.instances(), everHealthy, history);
    const observation = props.desiredCapacity && !observed.transientError ? { ...observed, desiredCapacity: props.desiredCapacity() } : observed;
    for (const th of observation.targetHealth) if (th.state === 'healthy') everHealthy.add(th.instanceId);
    const decision = evaluate(observation, props.policy, progress);
    progress = decision.progress;
    maxConsecutiveHealthy = Math.max(maxConsecutiveHealthy, progress.consecutiveHealthy);
    if (firstAllHealthyAt === undefined && progress.consecutiveHealthy > 0) firstAllHealthyAt = observation.at;
    props.onPoll?.(observation, decision);
    // Progress lines while waiting, each once; the verdict is the caller's to report.
    if (decision.verdict === 'wait' && decision.message !== lastLine) {
      props.log(`gate: ${decision.message}`);
      lastLine = decision.message;
    }
    if (decision.verdict !== 'wait') {
      return { decision, polls: progress.polls, maxConsecutiveHealthy, firstAllHealthyAt, everHealthy };
    }
    await sleep(Math.max(0, props.policy.pollIntervalMs - (Date.now() - began)));
  }
}
