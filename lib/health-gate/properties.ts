// The custom resource's properties: the contract between the HealthGate construct, which writes
// them into the template, and the handler, which reads them back. CloudFormation passes every
// value as a string.
import type { GatePolicy } from './types';
import { requiredText, wholeNumber } from '../resource-properties';

export interface GateResourceProperties {
  readonly GroupName: string;
  readonly Release: string;
  readonly ProgressParameter: string;
  readonly ExpectedInstances: string | number;
  readonly ConsecutiveHealthyPolls: string | number;
  readonly PollIntervalSeconds: string | number;
  readonly TimeoutSeconds: string | number;
  readonly MaxReplacedInstances: string | number;
}

export interface GateRun {
  readonly groupName: string;
  readonly release: string;
  readonly progressParameter: string;
  readonly policy: GatePolicy;
}

const text = (props: Record<string, unknown>, key: keyof GateResourceProperties): string => requiredText('health gate', props, key);

const whole = (props: Record<string, unknown>, key: keyof GateResourceProperties, min: number): number => wholeNumber('health gate', props, key, min);

/** Reads and checks the properties; every error names the property and echoes the value. */
export function parseGateProperties(props: Record<string, unknown> | undefined): GateRun {
  const p = props ?? {};
  return {
    groupName: text(p, 'GroupName'),
    release: text(p, 'Release'),
    progressParameter: text(p, 'ProgressParameter'),
    policy: {
      expectedInstances: whole(p, 'ExpectedInstances', 1),
      consecutiveHealthyPolls: whole(p, 'ConsecutiveHealthyPolls', 1),
      pollIntervalMs: whole(p, 'PollIntervalSeconds', 1) * 1000,
      timeoutMs: whole(p, 'TimeoutSeconds', 1) * 1000,
      maxReplacedInstances: whole(p, 'MaxReplacedInstances', 0),
    },
  };
}
