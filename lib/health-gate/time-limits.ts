// The gate's time limits against CloudFormation's and the Provider framework's. Pure, in whole
// seconds: the configuration schema and the HealthGate construct check the same numbers.
import { CUSTOM_RESOURCE_TIMEOUT_LIMIT, pollingServiceTimeout, pollingTotalTimeout, REPORT_MARGIN } from '../time-limits';

/**
 * Room after the gate's last poll for its verdict to reach CloudFormation: one more isComplete run
 * (the function's 60 s limit), the Provider's response, and clock drift between polls.
 */
export const GATE_REPORT_MARGIN = REPORT_MARGIN;

/**
 * The longest gate timeout with this poll interval. The gate fails on the first poll at or after
 * its timeout, so up to one interval later; then it needs the margin to report. Beyond this,
 * CloudFormation would fail the resource first, with no diagnosis.
 */
export const maxGateTimeout = (pollInterval: number): number => CUSTOM_RESOURCE_TIMEOUT_LIMIT - GATE_REPORT_MARGIN - pollInterval;

/** The custom resource's ServiceTimeout: the gate's timeout, one more poll, and the margin. */
export const gateServiceTimeout = (timeout: number, pollInterval: number): number => pollingServiceTimeout(timeout, pollInterval);

/**
 * The Provider's totalTimeout: whole poll intervals (the framework requires a multiple of its
 * query interval) covering the service timeout, so the framework never gives up before the gate.
 */
export const providerTotalTimeout = (timeout: number, pollInterval: number): number =>
  pollingTotalTimeout(gateServiceTimeout(timeout, pollInterval), pollInterval);
