// The TrafficSteps custom resource's properties: the contract between the construct and the
// handler. CloudFormation passes numbers as strings.
import { requiredText } from '../resource-properties';
import type { TrafficPolicy } from './steps';

export interface TrafficResourceProperties {
  readonly Release: string;
  /** The load balancer's ARN, whose listener on `ListenerPort` serves users. */
  readonly LoadBalancerArn: string;
  /** The load balancer's metric dimension, `app/<name>/<id>`. */
  readonly LoadBalancer: string;
  readonly ListenerPort: string | number;
  /** The release target group's ARN and metric dimension, `targetgroup/<name>/<id>`. */
  readonly TargetGroupArn: string;
  readonly TargetGroup: string;
  readonly Steps: ReadonlyArray<string | number>;
  readonly StepDurationSeconds: string | number;
  readonly SettleSeconds: string | number;
  readonly MaxExtensionSeconds: string | number;
  readonly OnTooFewRequests: string;
  readonly ErrorMargin: string | number;
  readonly Confidence: string | number;
  readonly MinRequests: string | number;
  readonly LatencyRatio: string | number;
  readonly LatencyFloorMs: string | number;
  readonly MaxErrorRate: string | number;
  readonly MaxErrors: string | number;
  readonly Alarms: readonly string[];
  /** 0 for none. */
  readonly StickinessSeconds: string | number;
  readonly ProgressParameter: string;
}

export interface TrafficRun {
  readonly release: string;
  readonly loadBalancerArn: string;
  readonly loadBalancer: string;
  readonly listenerPort: number;
  readonly targetGroupArn: string;
  readonly targetGroup: string;
  readonly stickinessSeconds?: number;
  readonly progressParameter: string;
  readonly policy: TrafficPolicy;
}

const text = (props: Record<string, unknown>, key: keyof TrafficResourceProperties): string => requiredText('traffic', props, key);

function number(props: Record<string, unknown>, key: keyof TrafficResourceProperties, min: number, max: number, raw: unknown = props[key]): number {
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`traffic property ${key}: ${JSON.stringify(raw)} must be a number from ${min} to ${max}`);
  }
  return value;
}

/** Reads and checks the properties; every error names the property and echoes the value. */
export function parseTrafficProperties(props: Record<string, unknown> | undefined): TrafficRun {
  const p = props ?? {};
  const alarms = p.Alarms ?? [];
  if (!Array.isArray(alarms) || !alarms.every((a) => typeof a === 'string' && a !== '')) {
    throw new Error(`traffic property Alarms: ${JSON.stringify(alarms)} must be a list of alarm names`);
  }
  const steps = p.Steps;
  if (!Array.isArray(steps) || steps.length === 0) throw new Error(`traffic property Steps: ${JSON.stringify(steps)} must be a list of percentages`);
  const onTooFew = p.OnTooFewRequests;
  if (onTooFew !== 'fail' && onTooFew !== 'pass') {
    throw new Error(`traffic property OnTooFewRequests: ${JSON.stringify(onTooFew)} must be "fail" or "pass"`);
  }
  const stickiness = number(p, 'StickinessSeconds', 0, 604_800);
  return {
    release: text(p, 'Release'),
    loadBalancerArn: text(p, 'LoadBalancerArn'),
    loadBalancer: text(p, 'LoadBalancer'),
    listenerPort: number(p, 'ListenerPort', 1, 65_535),
    targetGroupArn: text(p, 'TargetGroupArn'),
    targetGroup: text(p, 'TargetGroup'),
    ...(stickiness > 0 ? { stickinessSeconds: stickiness } : {}),
    progressParameter: text(p, 'ProgressParameter'),
    policy: {
      steps: steps.map((s) => number(p, 'Steps', 1, 99, s)),
      stepDurationMs: number(p, 'StepDurationSeconds', 1, 3600) * 1000,
      settleMs: number(p, 'SettleSeconds', 0, 900) * 1000,
      maxExtensionMs: number(p, 'MaxExtensionSeconds', 0, 3600) * 1000,
      onTooFewRequests: onTooFew,
      comparison: {
        errorMargin: number(p, 'ErrorMargin', 0, 100),
        confidence: number(p, 'Confidence', 50, 99.99),
        minRequests: number(p, 'MinRequests', 1, Number.MAX_SAFE_INTEGER),
        latencyRatio: number(p, 'LatencyRatio', 1, 100),
        latencyFloorMs: number(p, 'LatencyFloorMs', 0, 600_000),
      },
      limits: {
        maxErrorRate: number(p, 'MaxErrorRate', 0, 100),
        maxErrors: number(p, 'MaxErrors', 0, Number.MAX_SAFE_INTEGER),
        alarms: alarms as string[],
      },
    },
  };
}
