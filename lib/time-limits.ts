// CloudFormation's and the Provider framework's time limits, and the timeouts every greenlight
// custom resource derives from them. Pure, in whole seconds: the configuration schema and the
// constructs check the same numbers.

/** CloudFormation waits at most this long for a custom resource (the largest ServiceTimeout). */
export const CUSTOM_RESOURCE_TIMEOUT_LIMIT = 3600;

/** The Provider framework's waiter gives up after at most two hours (its totalTimeout's limit). */
export const PROVIDER_TOTAL_TIMEOUT_LIMIT = 7200;

/**
 * Room after a handler's last run for its answer to reach CloudFormation: one more isComplete run
 * (a minute at most), the Provider's response, and clock drift between polls.
 */
export const REPORT_MARGIN = 120;

/**
 * `seconds` rounded up to whole query intervals. The Provider framework turns its totalTimeout into
 * a retry count and refuses one that is not a whole number of query intervals
 * (`CannotDetermineRetryCount`), so every polling Provider's totalTimeout goes through this.
 */
export function wholeIntervals(seconds: number, interval: number): number {
  if (!(interval > 0)) throw new Error(`wholeIntervals: interval ${interval}s must be above 0`);
  return interval * Math.ceil(seconds / interval);
}

/**
 * The ServiceTimeout of a custom resource whose Provider answers in one run of its handler: the
 * handler's own Lambda timeout and the margin. Nothing a one-shot handler does can take longer.
 */
export const oneShotServiceTimeout = (functionTimeout: number): number => functionTimeout + REPORT_MARGIN;

/**
 * The ServiceTimeout of a polling custom resource that decides on its own by `longest` seconds: up
 * to one more poll, then the margin to report.
 */
export const pollingServiceTimeout = (longest: number, pollInterval: number): number => longest + pollInterval + REPORT_MARGIN;

/**
 * A polling Provider's totalTimeout: whole query intervals covering the resource's ServiceTimeout,
 * so the framework never gives up before the handler has decided.
 */
export const pollingTotalTimeout = (serviceTimeout: number, pollInterval: number): number => wholeIntervals(serviceTimeout, pollInterval);

/** The bake window's timing (lib/bake uses the same): defaults of its construct, and its give-up time. */
export const BAKE_TIMING = {
  /** Seconds of watching after the duration, for the load balancer's late metrics. */
  settle: 180,
  /** Seconds between polls. */
  pollInterval: 30,
  /** Seconds past the end during which the bake keeps retrying figures it cannot read, then fails. */
  giveUp: 300,
} as const;

/** The longest a bake can run before it decides: its duration, the settle time and the give-up time. */
export const bakeLongestRun = (duration: number, settle: number = BAKE_TIMING.settle): number => duration + settle + BAKE_TIMING.giveUp;

/** The bake's ServiceTimeout. */
export const bakeServiceTimeout = (duration: number, settle: number = BAKE_TIMING.settle, pollInterval: number = BAKE_TIMING.pollInterval): number =>
  pollingServiceTimeout(bakeLongestRun(duration, settle), pollInterval);

/**
 * The longest bake duration whose ServiceTimeout fits CloudFormation's limit: 2970 s with the
 * default settle time and poll interval.
 */
export const maxBakeDuration = (settle: number = BAKE_TIMING.settle, pollInterval: number = BAKE_TIMING.pollInterval): number =>
  CUSTOM_RESOURCE_TIMEOUT_LIMIT - REPORT_MARGIN - pollInterval - BAKE_TIMING.giveUp - settle;

/** A greenlight handler's Lambda timeout unless its construct says otherwise (HandlerFunction's default). */
export const HANDLER_FUNCTION_TIMEOUT = 60;

/** The smoke checks' Lambda timeout: paths are requested side by side, each within 60 s, with one retry on no answer. */
export const SMOKE_FUNCTION_TIMEOUT = 180;

/** Progressive traffic's timing on AWS (lib/traffic uses the same). */
export const TRAFFIC_TIMING = {
  /** Seconds each step keeps reading after its duration, for the load balancer's late metrics. */
  settle: 180,
  /** Seconds between polls. */
  pollInterval: 30,
  /** Seconds past a step's longest end during which figures it cannot read are retried, then it fails. */
  giveUp: 300,
} as const;

/** The longest the steps can run before they decide: every step extended to its limit, then the give-up time. */
export const trafficLongestRun = (steps: number, stepDuration: number, maxExtension: number, settle: number = TRAFFIC_TIMING.settle): number =>
  steps * (stepDuration + settle + maxExtension) + TRAFFIC_TIMING.giveUp;

/** The traffic steps' ServiceTimeout. */
export const trafficServiceTimeout = (steps: number, stepDuration: number, maxExtension: number): number =>
  pollingServiceTimeout(trafficLongestRun(steps, stepDuration, maxExtension), TRAFFIC_TIMING.pollInterval);
