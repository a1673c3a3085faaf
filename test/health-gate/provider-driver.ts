// Plays the Provider framework's part: onEvent, then isComplete at once and every query interval
// until it completes or throws, with the fake clock moving between calls.
import type { CdkCustomResourceEvent, CdkCustomResourceIsCompleteEvent } from 'aws-lambda';
import type { GateHandlers } from '../../lib/health-gate/handler';
import type { GateResourceProperties } from '../../lib/health-gate/properties';
import type { FakeClock } from './simulated-fleet';

export const RESPONSE_URL = 'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/secret-signature?X-Amz-Signature=abc';

export function gateProperties(overrides: Partial<GateResourceProperties> = {}): GateResourceProperties {
  return {
    GroupName: 'shop-staging-Fleet-r1',
    Release: '2026.11.22-3f9c2ab',
    ProgressParameter: '/greenlight/shop/staging/gate/2026.11.22-3f9c2ab',
    ExpectedInstances: '2',
    ConsecutiveHealthyPolls: '3',
    PollIntervalSeconds: '15',
    TimeoutSeconds: '900',
    MaxReplacedInstances: '2',
    ...overrides,
  };
}

export function createEvent(properties: GateResourceProperties, requestId = 'req-1'): CdkCustomResourceEvent {
  return {
    RequestType: 'Create',
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider',
    ResponseURL: RESPONSE_URL,
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/shop-staging/1',
    RequestId: requestId,
    LogicalResourceId: 'Gate20261122',
    ResourceType: 'Custom::HealthGate',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:provider', ...properties },
  };
}

export function isCompleteEvent(event: CdkCustomResourceEvent, physicalId: string): CdkCustomResourceIsCompleteEvent {
  return { ...event, PhysicalResourceId: physicalId } as CdkCustomResourceIsCompleteEvent;
}

export interface GateRunResult {
  readonly outcome: 'pass' | 'fail' | 'unfinished';
  /** The number of isComplete calls, the last one included. */
  readonly polls: number;
  /** Seconds on the fake clock at the last call. */
  readonly at: number;
  readonly error?: string;
}

export async function runGate(
  handlers: GateHandlers,
  properties: GateResourceProperties,
  clock: FakeClock,
  options: { readonly queryInterval: number; readonly maxPolls: number },
): Promise<GateRunResult> {
  const event = createEvent(properties);
  const created = await handlers.onEvent(event);
  // As the framework does: isComplete receives the original event merged with onEvent's answer.
  const request = { ...isCompleteEvent(event, String(created.PhysicalResourceId)), ...created } as ReturnType<typeof isCompleteEvent>;
  for (let poll = 1; poll <= options.maxPolls; poll++) {
    if (poll > 1) clock.advance(options.queryInterval);
    try {
      const result = await handlers.isComplete(request);
      if (result.IsComplete) return { outcome: 'pass', polls: poll, at: clock.seconds };
    } catch (err) {
      return { outcome: 'fail', polls: poll, at: clock.seconds, error: (err as Error).message };
    }
  }
  return { outcome: 'unfinished', polls: options.maxPolls, at: clock.seconds };
}
