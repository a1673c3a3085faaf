// A scaling policy raising green's desired capacity while the gate polls, played on HAProxy: once
// the gate has counted its first healthy poll, the group asks for one instance more, which then
// launches, registers in green's backend (as a new target starts: down until `rise` checks pass)
// and boots. The gate reads the raised desired capacity on its next poll and must wait for the
// new instance; it is the same pure core the Lambda runs.
import type { GateDecision } from '../health-gate/types';
import { addServerCommand, enableServerCommands, type CheckSettings } from './haproxy-config';
import type { BootResult, Instance } from './instance';
import type { RuntimeApi } from './runtime-api';

export interface ScaleOutProps {
  readonly api: RuntimeApi;
  /** Green's backend: its target group. */
  readonly backend: string;
  readonly check: CheckSettings;
  /** The group's desired capacity when the gate starts: the capacity probe's answer. */
  readonly initialDesired: number;
  /** Builds the new instance from green's image and configuration; it is not started yet. */
  readonly launch: () => Instance;
  /** Green's instances as the gate sees them; the new one joins once registered. */
  readonly fleet: Instance[];
  readonly mark: (phase: string, detail?: string) => void;
}

/** What the scenario's check needs to know about the scale-out. */
export interface ScaleOutFacts {
  /** Desired capacity after the scale-out. */
  readonly to: number;
  readonly instance: string;
  /** The gate's healthy streak when desired capacity rose. */
  readonly streakBefore: number;
}

export class MidGateScaleOut {
  private desired: number;
  private launched?: Instance;
  private streakBefore = 0;
  /** The new instance's first boot, once it launched. */
  boot?: Promise<BootResult>;

  constructor(private readonly props: ScaleOutProps) {
    this.desired = props.initialDesired;
  }

  /** The group's desired capacity now, as DescribeAutoScalingGroups would report it. */
  desiredCapacity(): number {
    return this.desired;
  }

  /** Called after every poll: the first healthy poll of a gate still waiting triggers the scale-out, once. */
  onPoll(decision: GateDecision): void {
    if (this.launched || decision.verdict !== 'wait' || decision.progress.consecutiveHealthy < 1) return;
    const { api, backend, check, fleet, mark } = this.props;
    this.desired += 1;
    this.streakBefore = decision.progress.consecutiveHealthy;
    const instance = this.props.launch();
    this.launched = instance;
    mark('green scaled out', `a policy raised desired capacity to ${this.desired}; ${instance.name} launches on ${instance.address}`);
    this.boot = (async (): Promise<BootResult> => {
      try {
        await api.run([
          addServerCommand(backend, { name: instance.name, address: instance.address, port: instance.port }, check),
          ...enableServerCommands(backend, instance.name),
        ]);
      } catch (err) {
        return { ok: false, step: 'register', detail: (err as Error).message };
      }
      fleet.push(instance);
      const result = await instance.start();
      mark(`${instance.name} ${result.ok ? 'booted' : 'boot failed'}`, result.ok ? undefined : `step ${result.step}: ${result.detail}`);
      return result;
    })();
  }

  facts(): ScaleOutFacts | undefined {
    return this.launched ? { to: this.desired, instance: this.launched.name, streakBefore: this.streakBefore } : undefined;
  }
}
