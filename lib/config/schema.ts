// The per-environment settings read from cdk.json's context, as a zod schema: each setting's kind
// (fields.ts), its bounds and defaults (limits.ts), and the rules that tie settings together, with
// the cross-setting checks AWS would make at deploy time in deploy-time-checks.ts.
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { z } from 'zod';
import { GREENLIGHT_TAG_PREFIX } from '../ssm-paths';
import { absolutePath, count, cron, decimal, describe, field, flag, instanceType, isWholeSeconds, list, matcher, percent, seconds, text, timeZone } from './fields';
import { checkScalingRoom, imageAndPlacementIssues } from './deploy-time-checks';
import { IMAGE_USERS } from './image-facts';
import { BAKE_DEFAULTS, GATE_DEFAULTS, HEALTH_CHECK_DEFAULTS, LIMITS, PREVIEW_DEFAULTS, SMOKE_DEFAULTS, STANDBY_DEFAULTS, STANDBY_DEPLOY_MARGIN, TRAFFIC_DEFAULTS } from './limits';
import { GATE_REPORT_MARGIN, maxGateTimeout } from '../health-gate/time-limits';
import { CUSTOM_RESOURCE_TIMEOUT_LIMIT, TRAFFIC_TIMING, trafficLongestRun, trafficServiceTimeout } from '../time-limits';

export * from './limits';


const healthCheck = z
  .strictObject({
    path: absolutePath('a health-check path').default(
      HEALTH_CHECK_DEFAULTS.path,
    ),
    interval: seconds(LIMITS.interval).default(HEALTH_CHECK_DEFAULTS.interval),
    timeout: seconds(LIMITS.timeout).default(HEALTH_CHECK_DEFAULTS.timeout),
    healthyThreshold: count(LIMITS.threshold).default(HEALTH_CHECK_DEFAULTS.healthyThreshold),
    unhealthyThreshold: count(LIMITS.threshold).default(HEALTH_CHECK_DEFAULTS.unhealthyThreshold),
    matcher: matcher().default(HEALTH_CHECK_DEFAULTS.matcher),
  })
  .superRefine((hc, ctx) => {
    if (hc.timeout >= hc.interval) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeout'],
        message: `${hc.timeout}s must be shorter than interval ${hc.interval}s`,
      });
    }
  });

const gate = z
  .strictObject({
    consecutiveHealthyPolls: count(LIMITS.consecutiveHealthyPolls).default(GATE_DEFAULTS.consecutiveHealthyPolls),
    pollInterval: seconds(LIMITS.pollInterval).default(GATE_DEFAULTS.pollInterval),
    // Its upper bound depends on pollInterval: the object's check below applies the range.
    timeout: field<number>(`${LIMITS.gateTimeout[0]}–${LIMITS.gateTimeout[1]}s`, (value) =>
      isWholeSeconds(value) ? undefined : `${describe(value)} must be a whole number of seconds (${LIMITS.gateTimeout[0]}–${LIMITS.gateTimeout[1]})`,
    ).default(GATE_DEFAULTS.timeout),
    maxReplacedInstances: count(LIMITS.maxReplacedInstances).default(GATE_DEFAULTS.maxReplacedInstances),
  })
  .superRefine((g, ctx) => {
    const min = LIMITS.gateTimeout[0];
    const max = maxGateTimeout(g.pollInterval);
    if (g.timeout < min) {
      ctx.addIssue({ code: 'custom', path: ['timeout'], message: `${g.timeout}s is out of range; allowed ${min}–${max}s with pollInterval ${g.pollInterval}s` });
    } else if (g.timeout > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeout'],
        message:
          `${g.timeout}s is too long with pollInterval ${g.pollInterval}s; allowed ${min}–${max}s ` +
          `(CloudFormation waits at most ${CUSTOM_RESOURCE_TIMEOUT_LIMIT}s for a custom resource, and the gate needs ` +
          `one poll interval and ${GATE_REPORT_MARGIN}s after its timeout to report)`,
      });
    }
  });

// An ALB http-header condition names a header of at most 40 token characters, and cannot match
// Host (ELB's HttpHeaderConditionConfig: a host-header condition does that).
const previewHeader = text('an HTTP header name', /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$/, '1–40 letters, digits or -_.!#$%&\'*+^`|~').refine(
  (header) => header.toLowerCase() !== 'host',
  { error: (iss) => `${describe(iss.input)} is a header an ALB rule cannot match (it matches Host with a host-header condition); expected another name, such as "${PREVIEW_DEFAULTS.header}"` },
);

const preview = z.strictObject({
  header: previewHeader.default(PREVIEW_DEFAULTS.header),
  // Who else may reach the preview port; nobody by default. The release's key is still needed.
  allowedCidrs: list(
    text('an IPv4 CIDR other than 0.0.0.0/0', /^(?!0\.0\.0\.0\/0$)((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$/, 'an address range such as "203.0.113.0/24"'),
    LIMITS.previewCidrs,
    'CIDRs',
  ).default([]),
});

const smoke = z.strictObject({
  paths: list(absolutePath('a smoke-check path'), LIMITS.smokePaths, 'paths'),
  expectedStatuses: matcher().default(SMOKE_DEFAULTS.expectedStatuses),
  timeout: seconds(LIMITS.smokeTimeout).default(SMOKE_DEFAULTS.timeout),
});

const bake = z.strictObject({
  duration: seconds(LIMITS.bakeDuration),
  maxErrorRate: percent(LIMITS.maxErrorRate).default(BAKE_DEFAULTS.maxErrorRate),
  maxErrors: count(LIMITS.maxErrors).default(BAKE_DEFAULTS.maxErrors),
  alarms: list(
    text('a CloudWatch alarm name', /^[^\x00-\x1f]{1,255}$/, '1–255 printable characters'),
    LIMITS.bakeAlarms,
    'alarms',
  ).default([]),
});

const trafficSteps = (() => {
  const [lo, hi] = LIMITS.trafficStepPercent;
  const [fewest, most] = LIMITS.trafficSteps;
  const allowed = `${fewest}–${most} ascending whole percentages ${lo}–${hi}, such as [10, 50]`;
  return field<number[]>(allowed, (value) => {
    const ok =
      Array.isArray(value) &&
      value.length >= fewest &&
      value.length <= most &&
      value.every((v, i) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi && (i === 0 || v > (value[i - 1] as number)));
    return ok ? undefined : `${describe(value)} is not a list of steps; allowed ${allowed}`;
  });
})();

// Progressive traffic: the new release gets each percentage of the requests in turn, judged
// against the live release, before the cutover gives it 100.
const traffic = z
  .strictObject({
    steps: trafficSteps,
    stepDuration: seconds(LIMITS.trafficStepDuration).default(TRAFFIC_DEFAULTS.stepDuration),
    /** Seconds a user stays on the release that first answered them, during the steps. */
    stickiness: seconds(LIMITS.trafficStickiness).optional(),
    errorMargin: decimal(LIMITS.trafficErrorMargin, 'percentage points').default(TRAFFIC_DEFAULTS.errorMargin),
    confidence: decimal(LIMITS.trafficConfidence, 'a confidence in percent').default(TRAFFIC_DEFAULTS.confidence),
    minRequests: count(LIMITS.trafficMinRequests).default(TRAFFIC_DEFAULTS.minRequests),
    latencyRatio: decimal(LIMITS.trafficLatencyRatio, 'a ratio').default(TRAFFIC_DEFAULTS.latencyRatio),
    latencyFloorMs: decimal(LIMITS.trafficLatencyFloorMs, 'milliseconds').default(TRAFFIC_DEFAULTS.latencyFloorMs),
    maxExtension: seconds(LIMITS.trafficMaxExtension).default(TRAFFIC_DEFAULTS.maxExtension),
    onTooFewRequests: z
      .unknown()
      .transform((value, ctx) => {
        if (value === 'fail' || value === 'pass') return value;
        ctx.addIssue({ code: 'custom', message: `${describe(value)} is not allowed; expected "fail" or "pass"` });
        return z.NEVER;
      })
      .default(TRAFFIC_DEFAULTS.onTooFewRequests),
  })
  .superRefine((t, ctx) => {
    const service = trafficServiceTimeout(t.steps.length, t.stepDuration, t.maxExtension);
    if (service > CUSTOM_RESOURCE_TIMEOUT_LIMIT) {
      ctx.addIssue({
        code: 'custom',
        path: ['stepDuration'],
        message:
          `${t.stepDuration}s is too long for ${t.steps.length} steps: with ${TRAFFIC_TIMING.settle}s for late metrics and maxExtension ` +
          `${t.maxExtension}s per step, and the time to give up and report, they may need ${service}s; ` +
          `CloudFormation waits at most ${CUSTOM_RESOURCE_TIMEOUT_LIMIT}s for a custom resource`,
      });
    }
  });

const scheduledAction = z
  .strictObject({
    name: text('a scheduled action name', /^[A-Za-z][A-Za-z0-9-]{0,63}$/, '1–64 letters, digits or hyphens, starting with a letter'),
    cron: cron(),
    timeZone: timeZone().optional(),
    min: count(LIMITS.capacity).optional(),
    desired: count(LIMITS.capacity).optional(),
    max: count(LIMITS.capacity).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.min === undefined && a.desired === undefined && a.max === undefined) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: 'a scheduled action must set at least one of min, desired or max' });
    }
    if (a.min !== undefined && a.desired !== undefined && a.min > a.desired) {
      ctx.addIssue({ code: 'custom', path: ['desired'], message: `${a.desired} must be at least min ${a.min}` });
    }
    if (a.desired !== undefined && a.max !== undefined && a.desired > a.max) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: `${a.max} must be at least desired ${a.desired}` });
    }
    if (a.min !== undefined && a.max !== undefined && a.min > a.max) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: `${a.max} must be at least min ${a.min}` });
    }
  });

// Target tracking on the group's average CPU and on the release's own target group's request
// count per target, and scheduled actions; each optional, at least one set.
const scaling = z
  .strictObject({
    cpuUtilization: percent(LIMITS.cpuUtilization).optional(),
    requestsPerTargetPerMinute: count(LIMITS.requestsPerTarget).optional(),
    scheduled: list(scheduledAction, LIMITS.scheduledActions, 'scheduled actions').optional(),
  })
  .superRefine((s, ctx) => {
    if (s.cpuUtilization === undefined && s.requestsPerTargetPerMinute === undefined && s.scheduled === undefined) {
      ctx.addIssue({ code: 'custom', message: 'sets nothing; set cpuUtilization, requestsPerTargetPerMinute or scheduled' });
    }
    const names = new Set<string>();
    s.scheduled?.forEach((a, i) => {
      if (names.has(a.name)) ctx.addIssue({ code: 'custom', path: ['scheduled', i, 'name'], message: `${describe(a.name)} is used twice; names must be unique` });
      names.add(a.name);
    });
  });

/** Keep the outgoing release running after a cutover, so a rollback is a switch (see docs/scaling-and-standby.md). */
const standby = z.strictObject({
  enabled: flag().default(true),
  /** Seconds after the deploy that the standby fleet scales to zero. */
  window: seconds(LIMITS.standbyWindow).default(STANDBY_DEFAULTS.window),
  /** "full" keeps the standby at its serving size; a number scales it to that many instances. */
  capacity: z
    .unknown()
    .transform((value, ctx) => {
      const [min, max] = LIMITS.capacity;
      if (value === 'full' || (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)) {
        return value as 'full' | number;
      }
      ctx.addIssue({ code: 'custom', message: `${describe(value)} is not a standby capacity; expected "full" or a whole number ${min}–${max}` });
      return z.NEVER;
    })
    .default(STANDBY_DEFAULTS.capacity),
});

const capacity = z
  .strictObject({
    min: count(LIMITS.capacity).default(1),
    desired: count(LIMITS.capacity).default(2),
    max: count(LIMITS.capacity).default(4),
  })
  .superRefine((c, ctx) => {
    if (c.min > c.desired) {
      ctx.addIssue({ code: 'custom', path: ['desired'], message: `${c.desired} must be at least min ${c.min}` });
    }
    if (c.desired > c.max) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: `${c.max} must be at least desired ${c.desired}` });
    }
  });

const subnetIds = list(text('a subnet id', /^subnet-[0-9a-f]{8,17}$/, '"subnet-" and 8 or 17 hex digits'), [LIMITS.maxAzs[0], LIMITS.maxAzs[1] * 4], 'subnet ids');

// Either create a VPC (maxAzs) or import one by id; importing needs no lookup, so synth stays offline.
const vpc = z
  .strictObject({
    maxAzs: count(LIMITS.maxAzs, 'an Application Load Balancer needs subnets in two availability zones or more').optional(),
    vpcId: text('a VPC id', /^vpc-[0-9a-f]{8,17}$/, '"vpc-" and 8 or 17 hex digits').optional(),
    // The load balancer needs two zones or more, as with maxAzs.
    availabilityZones: list(text('an availability zone', /^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, 'a zone such as "eu-west-1a"'), LIMITS.maxAzs, 'availability zones').optional(),
    publicSubnetIds: subnetIds.optional(),
    privateSubnetIds: subnetIds.optional(),
  })
  .superRefine((v, ctx) => {
    const imported = ['vpcId', 'availabilityZones', 'publicSubnetIds', 'privateSubnetIds'] as const;
    if (v.maxAzs !== undefined) {
      for (const key of imported) {
        if (v[key] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'cannot be combined with maxAzs; either create a VPC (maxAzs) or import one (vpcId)' });
        }
      }
      return;
    }
    for (const key of imported) {
      if (v[key] === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: `is required to import a VPC (or set maxAzs to create one)` });
      }
    }
  });

const listener = z.discriminatedUnion(
  'protocol',
  [
    z.strictObject({ protocol: z.literal('HTTP') }),
    z.strictObject({
      protocol: z.literal('HTTPS'),
      certificateArn: text(
        'an ACM certificate ARN',
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/,
        'arn:aws:acm:<region>:<account>:certificate/<uuid>',
      ),
    }),
  ],
  {
    error: (iss) => {
      const input = iss.input;
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        return `${describe(input)} is not a listener; expected { "protocol": "HTTP" } or { "protocol": "HTTPS", "certificateArn": "arn:aws:acm:…" }`;
      }
      const { protocol } = input as { protocol?: unknown };
      return protocol === undefined ? 'is required; allowed "HTTP" or "HTTPS"' : `${describe(protocol)} is not a listener protocol; expected "HTTP" or "HTTPS"`;
    },
  },
);

/** Every region aws-cdk-lib knows, commercial and otherwise. */
export const KNOWN_REGIONS: readonly string[] = RegionInfo.regions.map((r) => r.name);

const region = field<string>(`one of ${KNOWN_REGIONS.join(', ')}`, (value) =>
  typeof value !== 'string' || !KNOWN_REGIONS.includes(value) ? `${describe(value)} is not an AWS region; expected one of ${KNOWN_REGIONS.join(', ')}` : undefined,
);

// greenlight tags every stack and release group with greenlight:app, greenlight:environment and
// greenlight:release, which its commands look up: a user tag of that name would replace them.
const tags = z.record(
  text('a tag key', /^(?![aA][wW][sS]:)[\p{L}\p{N}\s_.:/=+\-@]{1,128}$/u, '1–128 letters, digits, spaces or _.:/=+-@, not starting with "aws:" (reserved by AWS)').refine(
    (key) => !key.startsWith(GREENLIGHT_TAG_PREFIX),
    { error: (iss) => `${describe(iss.input)} would replace one of greenlight's own tags, which its commands look releases up by; expected a key not starting with "${GREENLIGHT_TAG_PREFIX}"` },
  ),
  text('a tag value', /^[\p{L}\p{N}\s_.:/=+\-@]{0,256}$/u, 'up to 256 letters, digits, spaces or _.:/=+-@'),
);

export const environmentSchema = z
  .strictObject({
    account: text('an AWS account id', /^\d{12}$/, '12 digits'),
    region,
    vpc: vpc.default({ maxAzs: 2 }),
    instanceType: instanceType().default('t3.small'),
    capacity: capacity.default({ min: 1, desired: 2, max: 4 }),
    healthCheck: healthCheck.default({ ...HEALTH_CHECK_DEFAULTS }),
    deregistrationDelay: seconds(LIMITS.deregistrationDelay).default(300),
    healthCheckGracePeriod: seconds(LIMITS.healthCheckGracePeriod).default(300),
    gate: gate.default({ ...GATE_DEFAULTS }),
    listener: listener.default({ protocol: 'HTTP' }),
    preview: preview.default({ ...PREVIEW_DEFAULTS, allowedCidrs: [] }),
    /** Requested through the preview route after the gate passes; none when absent. */
    smoke: smoke.optional(),
    /** Watches the release after the cutover; none when absent. */
    bake: bake.optional(),
    /** The new release's share of requests in steps before the cutover; all at once when absent. */
    traffic: traffic.optional(),
    /** Scaling policies and scheduled actions of each release's group; none when absent. */
    scaling: scaling.optional(),
    /** Keeps the outgoing release warm after the cutover; none when absent. */
    standby: standby.optional(),
    tags: tags.default({}),
    /** Defaults to true for an environment named "production". */
    deletionProtection: flag().optional(),
  })
  .superRefine((env, ctx) => {
    for (const issue of imageAndPlacementIssues(env)) ctx.addIssue({ code: 'custom', ...issue });
    // The gate cannot pass sooner than an instance can turn healthy and then stay healthy for K polls.
    const hc = env.healthCheck;
    const needed = hc.healthyThreshold * hc.interval + env.gate.consecutiveHealthyPolls * env.gate.pollInterval;
    if (env.gate.timeout < needed) {
      ctx.addIssue({
        code: 'custom',
        path: ['gate', 'timeout'],
        message:
          `${env.gate.timeout}s is too short; the gate needs at least ${needed}s ` +
          `(healthyThreshold ${hc.healthyThreshold} × interval ${hc.interval}s + ` +
          `consecutiveHealthyPolls ${env.gate.consecutiveHealthyPolls} × pollInterval ${env.gate.pollInterval}s)`,
      });
    }
    checkScalingRoom(env, ctx);
    // The scale-to-zero time is fixed when the deploy starts; the deploy must be over well before it.
    if (env.standby?.enabled) {
      const steps = trafficSeconds(env);
      const deploy = longestDeploySeconds(env);
      if (env.standby.window < deploy) {
        ctx.addIssue({
          code: 'custom',
          path: ['standby', 'window'],
          message:
            `${env.standby.window}s is too short; the standby must outlast the longest deploy, at least ${deploy}s ` +
            `(gate.timeout ${env.gate.timeout}s + ${env.traffic ? `traffic steps ${steps}s + ` : ''}bake.duration ${env.bake?.duration ?? 0}s + ${STANDBY_DEPLOY_MARGIN}s)`,
        });
      }
      if (env.standby.capacity !== 'full' && env.standby.capacity > env.capacity.max) {
        ctx.addIssue({
          code: 'custom',
          path: ['standby', 'capacity'],
          message: `${env.standby.capacity} is more than capacity.max ${env.capacity.max}; expected "full" or 1–${env.capacity.max}`,
        });
      }
    }
  });

/** The longest progressive traffic may take, in seconds; 0 without steps. */
const trafficSeconds = (env: Pick<EnvironmentSettings, 'traffic'>): number =>
  env.traffic ? trafficLongestRun(env.traffic.steps.length, env.traffic.stepDuration, env.traffic.maxExtension) : 0;

/** The longest a deploy may take from its start: the gate, the steps, the bake, and room for the rest. */
export const longestDeploySeconds = (env: Pick<EnvironmentSettings, 'gate' | 'traffic' | 'bake'>): number =>
  env.gate.timeout + trafficSeconds(env) + (env.bake?.duration ?? 0) + STANDBY_DEPLOY_MARGIN;

/** An environment's name: part of its stack's name and of every SSM path; `add-env` checks it the same way. */
export const ENVIRONMENT_NAME = { pattern: /^[a-z][a-z0-9]{0,15}$/, allowed: '1–16 lowercase letters or digits, starting with a letter' } as const;

export const configSchema = z.strictObject({
  app: text('an app name', /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, '3–32 lowercase letters, digits or hyphens, starting with a letter').refine(
    (app) => !IMAGE_USERS.includes(app),
    { error: (iss) => `${describe(iss.input)} is already a user on the release image, and the app runs as a user of its own name; choose another app name` },
  ),
  /** The app directory baked into the AMI, relative to cdk.json; its manifest checks the health paths. */
  appSource: text('an app directory', /^[^\0\n]+$/, 'a path relative to cdk.json, such as "examples/django-app"').optional(),
  environments: z
    .record(text('an environment name', ENVIRONMENT_NAME.pattern, ENVIRONMENT_NAME.allowed), environmentSchema)
    .refine((envs) => Object.keys(envs).length > 0, { message: 'must define at least one environment' }),
});

export type EnvironmentSettings = z.output<typeof environmentSchema>;
export type GreenlightSettings = z.output<typeof configSchema>;
export type ScalingSettings = NonNullable<EnvironmentSettings['scaling']>;
export type TrafficSettings = NonNullable<EnvironmentSettings['traffic']>;
