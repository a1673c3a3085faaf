// The BakeWindow custom resource's properties: the contract between the construct and the handler.
// CloudFormation passes numbers as strings.
import type { BakePolicy } from './evaluate';
import { requiredText } from '../resource-properties';

export interface BakeResourceProperties {
  readonly Release: string;
  /** The load balancer's metric dimension, `app/<name>/<id>`. */
  readonly LoadBalancer: string;
  /** The release target group's metric dimension, `targetgroup/<name>/<id>`. */
  readonly TargetGroup: string;
  /** The release target group's ARN, for DescribeTargetHealth. */
  readonly TargetGroupArn: string;
  readonly DurationSeconds: string | number;
  readonly SettleSeconds: string | number;
  readonly MaxErrorRate: string | number;
  readonly MaxErrors: string | number;
  readonly Alarms: readonly string[];
  readonly ProgressParameter: string;
}

export interface BakeRun {
  readonly release: string;
  readonly loadBalancer: string;
  readonly targetGroup: string;
  readonly targetGroupArn: string;
  readonly progressParameter: string;
  readonly policy: BakePolicy;
}

const text = (props: Record<string, unknown>, key: keyof BakeResourceProperties): string => requiredText('bake', props, key);

function number(props: Record<string, unknown>, key: keyof BakeResourceProperties, min: number, max: number): number {
  const raw = props[key];
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`bake property ${key}: ${JSON.stringify(raw)} must be a number from ${min} to ${max}`);
  }
  return value;
}

/** Reads and checks the properties; every error names the property and echoes the value. */
export function parseBakeProperties(props: Record<string, unknown> | undefined): BakeRun {
  const p = props ?? {};
  const alarms = p.Alarms ?? [];
  if (!Array.isArray(alarms) || !alarms.every((a) => typeof a === 'string' && a !== '')) {
    throw new Error(`bake property Alarms: ${JSON.stringify(alarms)} must be a list of alarm names`);
  }
  return {
    release: text(p, 'Release'),
    loadBalancer: text(p, 'LoadBalancer'),
    targetGroup: text(p, 'TargetGroup'),
    targetGroupArn: text(p, 'TargetGroupArn'),
    progressParameter: text(p, 'ProgressParameter'),
    policy: {
      durationMs: number(p, 'DurationSeconds', 1, 86_400) * 1000,
      settleMs: number(p, 'SettleSeconds', 0, 3600) * 1000,
      maxErrorRate: number(p, 'MaxErrorRate', 0, 100),
      maxErrors: number(p, 'MaxErrors', 0, Number.MAX_SAFE_INTEGER),
      alarms: alarms as string[],
    },
  };
}
