import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_LINE_KEYS, ConfigError, loadSettings, selectEnvironments, SETTINGS_KEYS } from '../../lib/config/load';
import { readCdkJson, withLineAndColumn } from '../../lib/config/project';
import { GATE_DEFAULTS, HEALTH_CHECK_DEFAULTS } from '../../lib/config/schema';
import { cdkContext, minimalEnvironment, REPO_ROOT } from '../helpers/settings';

/** Loads one environment named `production` built from the minimal one plus `patch`. */
const loadProduction = (patch: Record<string, unknown>) =>
  loadSettings({ app: 'shop', environments: { production: { ...minimalEnvironment(), ...patch } } });

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('loadSettings', () => {
  it('loads cdk.json as shipped', () => {
    const settings = loadSettings(cdkContext());
    expect(Object.keys(settings.environments)).toEqual(Object.keys(cdkContext().environments));
    expect(Object.keys(settings.environments)).toEqual(expect.arrayContaining(['staging', 'production']));
    expect(settings.environments.production.listener.protocol).toBe('HTTPS');
  });

  it('fills the documented defaults for everything optional', () => {
    const env = loadProduction({}).environments.production;
    expect(env.healthCheck).toEqual(HEALTH_CHECK_DEFAULTS);
    expect(env.healthCheck).toEqual({
      path: '/health/',
      interval: 15,
      timeout: 5,
      healthyThreshold: 2,
      unhealthyThreshold: 10,
      matcher: '200',
    });
    expect(env.gate).toEqual(GATE_DEFAULTS);
    expect(env.capacity).toEqual({ min: 1, desired: 2, max: 4 });
    expect(env.vpc).toEqual({ maxAzs: 2 });
    expect(env.listener).toEqual({ protocol: 'HTTP' });
    expect(env.deregistrationDelay).toBe(300);
  });

  it('defaults the preview header and leaves smoke checks and the bake off', () => {
    const env = loadProduction({}).environments.production;
    expect(env.preview).toEqual({ header: 'X-Greenlight-Release', allowedCidrs: [] });
    expect(env.smoke).toBeUndefined();
    expect(env.bake).toBeUndefined();
  });

  it('leaves the standby off unless asked, and fills its defaults', () => {
    expect(loadProduction({}).environments.production.standby).toBeUndefined();
    expect(loadProduction({ standby: {} }).environments.production.standby).toEqual({ enabled: true, window: 3600, capacity: 'full' });
    expect(loadProduction({ standby: { window: 7200, capacity: 1 } }).environments.production.standby).toEqual({ enabled: true, window: 7200, capacity: 1 });
  });

  it('fills the defaults of smoke checks and a bake', () => {
    const env = loadProduction({ smoke: { paths: ['/', '/orders/'] }, bake: { duration: 300 } }).environments.production;
    expect(env.smoke).toEqual({ paths: ['/', '/orders/'], expectedStatuses: '200', timeout: 10 });
    expect(env.bake).toEqual({ duration: 300, maxErrorRate: 1, maxErrors: 0, alarms: [] });
  });

  it('leaves traffic all at once by default, and fills the comparison defaults of steps', () => {
    expect(loadProduction({}).environments.production.traffic).toBeUndefined();
    expect(loadProduction({ traffic: { steps: [10, 50] } }).environments.production.traffic).toEqual({
      steps: [10, 50],
      stepDuration: 300,
      errorMargin: 1,
      confidence: 99,
      minRequests: 100,
      latencyRatio: 1.5,
      latencyFloorMs: 100,
      maxExtension: 300,
      onTooFewRequests: 'fail',
    });
    expect(loadProduction({ traffic: { steps: [5], stepDuration: 120, stickiness: 3600, onTooFewRequests: 'pass' } }).environments.production.traffic).toMatchObject({
      steps: [5],
      stepDuration: 120,
      stickiness: 3600,
      onTooFewRequests: 'pass',
    });
  });

  it('the example production configuration uses steps', () => {
    expect(loadSettings(cdkContext()).environments.production.traffic?.steps.length).toBeGreaterThan(0);
  });

  it('leaves scaling off by default and takes it as given', () => {
    expect(loadProduction({}).environments.production.scaling).toBeUndefined();
    const scaling = {
      cpuUtilization: 55.5,
      requestsPerTargetPerMinute: 1000,
      scheduled: [{ name: 'weekday-morning', cron: '30 6 * * MON-FRI', timeZone: 'Europe/London', min: 3, max: 8 }],
    };
    expect(loadProduction({ capacity: { min: 1, desired: 2, max: 8 }, scaling }).environments.production.scaling).toEqual(scaling);
  });

  it('ships production with target tracking and scheduled actions', () => {
    const scaling = loadSettings(cdkContext()).environments.production.scaling;
    expect(scaling?.cpuUtilization).toBeGreaterThan(0);
    expect(scaling?.requestsPerTargetPerMinute).toBeGreaterThan(0);
    expect(scaling?.scheduled?.length).toBeGreaterThan(0);
  });

  it('fills defaults inside a partly given health check', () => {
    const env = loadProduction({ healthCheck: { interval: 30 } }).environments.production;
    expect(env.healthCheck).toEqual({ ...HEALTH_CHECK_DEFAULTS, interval: 30 });
  });

  it('accepts an imported VPC described in full', () => {
    const env = loadProduction({
      vpc: {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        publicSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        privateSubnetIds: ['subnet-0123456789abcdef2', 'subnet-0123456789abcdef3'],
      },
    }).environments.production;
    expect(env.vpc.vpcId).toBe('vpc-0123456789abcdef0');
  });

  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, string | ReturnType<typeof expect.stringContaining>]> = [
    ['timeout not below interval', { healthCheck: { interval: 15, timeout: 20 } }, 'environments.production.healthCheck.timeout: 20s must be shorter than interval 15s'],
    ['timeout equal to interval', { healthCheck: { interval: 10, timeout: 10 } }, 'environments.production.healthCheck.timeout: 10s must be shorter than interval 10s'],
    ['interval below 5 s', { healthCheck: { interval: 4, timeout: 2 } }, 'environments.production.healthCheck.interval: 4s is out of range; allowed 5–300s'],
    ['interval above 300 s', { healthCheck: { interval: 301 } }, 'environments.production.healthCheck.interval: 301s is out of range; allowed 5–300s'],
    ['timeout below 2 s', { healthCheck: { timeout: 1 } }, 'environments.production.healthCheck.timeout: 1s is out of range; allowed 2–120s'],
    ['interval as a string', { healthCheck: { interval: '15s' } }, 'environments.production.healthCheck.interval: "15s" must be a whole number of seconds (5–300)'],
    ['healthy threshold 1', { healthCheck: { healthyThreshold: 1 } }, 'environments.production.healthCheck.healthyThreshold: 1 is out of range; allowed a whole number 2–10'],
    ['unhealthy threshold 11', { healthCheck: { unhealthyThreshold: 11 } }, 'environments.production.healthCheck.unhealthyThreshold: 11 is out of range; allowed a whole number 2–10'],
    ['matcher code above 499', { healthCheck: { matcher: '200,500' } }, 'environments.production.healthCheck.matcher: "200,500" is not a valid matcher; expected HTTP codes 200–499 as "200", "200,202" or "200-299"'],
    ['matcher code below 200', { healthCheck: { matcher: '100-299' } }, 'environments.production.healthCheck.matcher: "100-299" is not a valid matcher; expected HTTP codes 200–499 as "200", "200,202" or "200-299"'],
    ['relative health path', { healthCheck: { path: 'health/' } }, 'environments.production.healthCheck.path: "health/" is not a health-check path; expected an absolute path such as "/health/"'],
    ['deregistration delay above 3600 s', { deregistrationDelay: 3601 }, 'environments.production.deregistrationDelay: 3601s is out of range; allowed 0–3600s'],
    ['negative deregistration delay', { deregistrationDelay: -1 }, 'environments.production.deregistrationDelay: -1s is out of range; allowed 0–3600s'],
    ['min above desired', { capacity: { min: 3, desired: 2, max: 4 } }, 'environments.production.capacity.desired: 2 must be at least min 3'],
    ['desired above max', { capacity: { min: 1, desired: 5, max: 4 } }, 'environments.production.capacity.max: 4 must be at least desired 5'],
    ['zero instances', { capacity: { min: 0, desired: 0, max: 0 } }, 'environments.production.capacity.min: 0 is out of range; allowed a whole number 1–1000'],
    ['unknown key at the top', { healthcheck: {} }, 'environments.production.healthcheck: unknown setting'],
    ['unknown key in the health check', { healthCheck: { intervalSeconds: 15 } }, 'environments.production.healthCheck.intervalSeconds: unknown setting'],
    ['short account id', { account: '12345' }, 'environments.production.account: "12345" is not an AWS account id; expected 12 digits'],
    ['malformed region', { region: 'Europe' }, expect.stringMatching(/^environments\.production\.region: "Europe" is not an AWS region; expected one of /)],
    ['HTTPS without a certificate', { listener: { protocol: 'HTTPS' } }, 'environments.production.listener.certificateArn: is required; allowed arn:aws:acm:<region>:<account>:certificate/<uuid>'],
    ['unknown listener protocol', { listener: { protocol: 'TCP' } }, 'environments.production.listener.protocol: "TCP" is not a listener protocol; expected "HTTP" or "HTTPS"'],
    ['too many availability zones', { vpc: { maxAzs: 7 } }, 'environments.production.vpc.maxAzs: 7 is out of range; allowed a whole number 2–6 (an Application Load Balancer needs subnets in two availability zones or more)'],
    ['VPC id without subnets', { vpc: { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a'] } }, 'environments.production.vpc.publicSubnetIds: is required to import a VPC (or set maxAzs to create one)'],
    [
      "gate timeout above CloudFormation's limit, with the bound for the poll interval given",
      { gate: { timeout: 3600 } },
      'environments.production.gate.timeout: 3600s is too long with pollInterval 15s; allowed 60–3465s (CloudFormation waits at most 3600s for a custom resource, and the gate needs one poll interval and 120s after its timeout to report)',
    ],
    ['gate timeout below a minute', { gate: { timeout: 30, pollInterval: 5 } }, 'environments.production.gate.timeout: 30s is out of range; allowed 60–3475s with pollInterval 5s'],
    ['gate timeout as text', { gate: { timeout: '15m' } }, 'environments.production.gate.timeout: "15m" must be a whole number of seconds (60–3475)'],
    [
      'gate timeout that leaves no time to report after a long poll interval',
      { gate: { timeout: 3300, pollInterval: 300 } },
      'environments.production.gate.timeout: 3300s is too long with pollInterval 300s; allowed 60–3180s (CloudFormation waits at most 3600s ' +
        'for a custom resource, and the gate needs one poll interval and 120s after its timeout to report)',
    ],
    ['gate timeout shorter than the time to turn healthy', { gate: { timeout: 60, consecutiveHealthyPolls: 3, pollInterval: 15 } }, 'environments.production.gate.timeout: 60s is too short; the gate needs at least 75s (healthyThreshold 2 × interval 15s + consecutiveHealthyPolls 3 × pollInterval 15s)'],
    ['zero consecutive polls', { gate: { consecutiveHealthyPolls: 0 } }, 'environments.production.gate.consecutiveHealthyPolls: 0 is out of range; allowed a whole number 1–20'],
    ['a preview header with a space', { preview: { header: 'X Release' } }, 'environments.production.preview.header: "X Release" is not an HTTP header name; expected 1–40 letters, digits or -_.!#$%&\'*+^`|~'],
    ['a smoke check without paths', { smoke: {} }, 'environments.production.smoke.paths: is required'],
    ['an empty list of smoke paths', { smoke: { paths: [] } }, 'environments.production.smoke.paths: lists 0 paths; allowed 1–20'],
    ['a relative smoke path', { smoke: { paths: ['/', 'orders/'] } }, 'environments.production.smoke.paths[1]: "orders/" is not a smoke-check path; expected an absolute path such as "/health/"'],
    ['smoke paths as a string', { smoke: { paths: '/' } }, 'environments.production.smoke.paths: "/" is not a list of paths'],
    ['a smoke timeout of 0', { smoke: { paths: ['/'], timeout: 0 } }, 'environments.production.smoke.timeout: 0s is out of range; allowed 1–60s'],
    ['a smoke status of 5xx', { smoke: { paths: ['/'], expectedStatuses: '500' } }, 'environments.production.smoke.expectedStatuses: "500" is not a valid matcher; expected HTTP codes 200–499 as "200", "200,202" or "200-299"'],
    ['a bake without a duration', { bake: {} }, 'environments.production.bake.duration: is required; allowed 60–2970s'],
    ['a bake shorter than a metric period', { bake: { duration: 30 } }, 'environments.production.bake.duration: 30s is out of range; allowed 60–2970s'],
    ['the preview open to the internet', { preview: { allowedCidrs: ['0.0.0.0/0'] } }, 'environments.production.preview.allowedCidrs[0]: "0.0.0.0/0" is not an IPv4 CIDR other than 0.0.0.0/0; expected an address range such as "203.0.113.0/24"'],
    ['a preview CIDR without its prefix', { preview: { allowedCidrs: ['203.0.113.7'] } }, 'environments.production.preview.allowedCidrs[0]: "203.0.113.7" is not an IPv4 CIDR other than 0.0.0.0/0; expected an address range such as "203.0.113.0/24"'],
    [
      'smoke checks in an imported VPC with no address admitted to the preview',
      { smoke: { paths: ['/'] }, vpc: { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a'], publicSubnetIds: ['subnet-0123456789abcdef0'], privateSubnetIds: ['subnet-0123456789abcdef2'] } },
      'environments.production.preview.allowedCidrs: is empty, but the smoke checks in imported VPC vpc-0123456789abcdef0 reach the preview port through its NAT gateways; list their public addresses, such as "198.51.100.7/32"',
    ],
    ['a bake longer than CloudFormation waits for it', { bake: { duration: 3000 } }, 'environments.production.bake.duration: 3000s is out of range; allowed 60–2970s'],
    ['an error rate above 100', { bake: { duration: 300, maxErrorRate: 150 } }, 'environments.production.bake.maxErrorRate: 150 is out of range; allowed a percentage 0–100'],
    ['an error rate as text', { bake: { duration: 300, maxErrorRate: '1%' } }, 'environments.production.bake.maxErrorRate: "1%" is not a number; allowed a percentage 0–100'],
    ['negative max errors', { bake: { duration: 300, maxErrors: -1 } }, 'environments.production.bake.maxErrors: -1 is out of range; allowed a whole number 0–1000000'],
    ['an empty alarm name', { bake: { duration: 300, alarms: [''] } }, 'environments.production.bake.alarms[0]: "" is not a CloudWatch alarm name; expected 1–255 printable characters'],
    ['an unknown region', { region: 'eu-west-9' }, expect.stringMatching(/^environments\.production\.region: "eu-west-9" is not an AWS region; expected one of af-south-1, .*eu-west-1, .*us-west-2/)],
    ['a tag key reserved by AWS', { tags: { 'aws:owner': 'me' } }, 'environments.production.tags.aws:owner: "aws:owner" is not a tag key; expected 1–128 letters, digits, spaces or _.:/=+-@, not starting with "aws:" (reserved by AWS)'],
    ['a tag key reserved by AWS, in capitals', { tags: { 'AWS:owner': 'me' } }, expect.stringContaining('environments.production.tags.AWS:owner: "AWS:owner" is not a tag key')],
    [
      'a certificate of another region',
      { listener: { protocol: 'HTTPS', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0b6c9d2e-1f3a-4c5b-8d7e-9f0a1b2c3d4e' } },
      'environments.production.listener.certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0b6c9d2e-1f3a-4c5b-8d7e-9f0a1b2c3d4e" is in region us-east-1, account 123456789012; a load balancer can only use an ACM certificate of its own region and account (eu-west-1, 123456789012)',
    ],
    [
      'a certificate of another account',
      { listener: { protocol: 'HTTPS', certificateArn: 'arn:aws:acm:eu-west-1:999999999999:certificate/0b6c9d2e-1f3a-4c5b-8d7e-9f0a1b2c3d4e' } },
      expect.stringContaining('is in region eu-west-1, account 999999999999; a load balancer can only use an ACM certificate of its own region and account (eu-west-1, 123456789012)'),
    ],
    [
      'imported zones of another region',
      { vpc: { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'us-east-1b'], publicSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], privateSubnetIds: ['subnet-0123456789abcdef2', 'subnet-0123456789abcdef3'] } },
      'environments.production.vpc.availabilityZones[1]: "us-east-1b" is not a zone of region eu-west-1; expected a zone such as "eu-west-1a"',
    ],
    [
      'imported subnets that do not pair with the zones',
      { vpc: { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], publicSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1', 'subnet-0123456789abcdef4'], privateSubnetIds: ['subnet-0123456789abcdef2', 'subnet-0123456789abcdef3'] } },
      'environments.production.vpc.publicSubnetIds: lists 3 subnets for 2 availability zones; allowed one subnet per zone, in the order of availabilityZones',
    ],
    ['a Graviton instance type', { instanceType: 't4g.small' }, 'environments.production.instanceType: "t4g.small" is an arm64 (Graviton) type, and the release AMI is x86_64; allowed an x86_64 type such as "t3.small" or "m6i.large"'],
    ['a Graviton type with more attributes', { instanceType: 'c7gn.large' }, expect.stringContaining('environments.production.instanceType: "c7gn.large" is an arm64 (Graviton) type')],
    ['scaling that sets nothing', { scaling: {} }, 'environments.production.scaling: sets nothing; set cpuUtilization, requestsPerTargetPerMinute or scheduled'],
    ['a CPU target of 0', { scaling: { cpuUtilization: 0 } }, 'environments.production.scaling.cpuUtilization: 0 is out of range; allowed a percentage 1–100'],
    ['a CPU target above 100', { scaling: { cpuUtilization: 120 } }, 'environments.production.scaling.cpuUtilization: 120 is out of range; allowed a percentage 1–100'],
    ['a fractional request target', { scaling: { requestsPerTargetPerMinute: 10.5 } }, 'environments.production.scaling.requestsPerTargetPerMinute: 10.5 is not a whole number; allowed 1–1000000'],
    ['target tracking with no room', { capacity: { min: 2, desired: 2, max: 2 }, scaling: { cpuUtilization: 50 } }, 'environments.production.scaling: target tracking needs room to scale, but capacity.min and capacity.max are both 2; raise capacity.max'],
    ['an unknown scaling key', { scaling: { cpu: 50 } }, 'environments.production.scaling.cpu: unknown setting'],
    ['a six-field cron', { scaling: { scheduled: [{ name: 'am', cron: '0 0 7 * * MON', min: 2 }] } }, 'environments.production.scaling.scheduled[0].cron: "0 0 7 * * MON" is not a cron expression; expected five fields "minute hour day-of-month month day-of-week", such as "0 7 * * MON-FRI"'],
    ['an unknown time zone', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *', timeZone: 'Mars/Olympus', min: 2 }] } }, 'environments.production.scaling.scheduled[0].timeZone: "Mars/Olympus" is not a time zone; expected an IANA name such as "Europe/London" or "UTC"'],
    ['a scheduled action that sets no capacity', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *' }] } }, 'environments.production.scaling.scheduled[0].min: a scheduled action must set at least one of min, desired or max'],
    ['a scheduled min above its desired', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *', min: 3, desired: 2 }] } }, 'environments.production.scaling.scheduled[0].desired: 2 must be at least min 3'],
    ['a scheduled min above capacity.max', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *', min: 9 }] } }, 'environments.production.scaling.scheduled[0].min: 9 is above capacity.max 4; set max in the action too'],
    ['a scheduled desired outside capacity', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *', desired: 5 }] } }, 'environments.production.scaling.scheduled[0].desired: 5 must lie between min 1 and max 4'],
    ['a scheduled min of 0', { scaling: { scheduled: [{ name: 'night', cron: '0 22 * * *', min: 0 }] } }, 'environments.production.scaling.scheduled[0].min: 0 is out of range; allowed a whole number 1–1000'],
    ['two scheduled actions with one name', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *', min: 2 }, { name: 'am', cron: '0 8 * * *', min: 3 }] } }, 'environments.production.scaling.scheduled[1].name: "am" is used twice; names must be unique'],
    ['a scheduled action name with a space', { scaling: { scheduled: [{ name: 'week day', cron: '0 7 * * *', min: 2 }] } }, 'environments.production.scaling.scheduled[0].name: "week day" is not a scheduled action name; expected 1–64 letters, digits or hyphens, starting with a letter'],
    ['a standby window of a minute', { standby: { window: 60 } }, 'environments.production.standby.window: 60s is out of range; allowed 600–604800s'],
    ['a standby window as text', { standby: { window: '1h' } }, 'environments.production.standby.window: "1h" must be a whole number of seconds (600–604800)'],
    ['a standby window shorter than a deploy', { standby: { window: 900 }, bake: { duration: 300 } }, 'environments.production.standby.window: 900s is too short; the standby must outlast the longest deploy, at least 1500s (gate.timeout 900s + bake.duration 300s + 300s)'],
    ['traffic without steps', { traffic: {} }, 'environments.production.traffic.steps: is required; allowed 1–5 ascending whole percentages 1–99, such as [10, 50]'],
    ['traffic steps out of order', { traffic: { steps: [50, 10] } }, 'environments.production.traffic.steps: [50,10] is not a list of steps; allowed 1–5 ascending whole percentages 1–99, such as [10, 50]'],
    ['a traffic step of 100', { traffic: { steps: [10, 100] } }, 'environments.production.traffic.steps: [10,100] is not a list of steps; allowed 1–5 ascending whole percentages 1–99, such as [10, 50]'],
    ['a fractional traffic step', { traffic: { steps: [2.5] } }, 'environments.production.traffic.steps: [2.5] is not a list of steps; allowed 1–5 ascending whole percentages 1–99, such as [10, 50]'],
    ['a step shorter than a metric period', { traffic: { steps: [10], stepDuration: 30 } }, 'environments.production.traffic.stepDuration: 30s is out of range; allowed 60–1800s'],
    ['a fractional step duration', { traffic: { steps: [10], stepDuration: 90.5 } }, 'environments.production.traffic.stepDuration: 90.5 must be a whole number of seconds (60–1800)'],
    ['stickiness of 0', { traffic: { steps: [10], stickiness: 0 } }, 'environments.production.traffic.stickiness: 0s is out of range; allowed 1–604800s'],
    ['a confidence of 100', { traffic: { steps: [10], confidence: 100 } }, 'environments.production.traffic.confidence: 100 is out of range; allowed a confidence in percent 80–99.9'],
    ['a latency ratio below 1', { traffic: { steps: [10], latencyRatio: 0.5 } }, 'environments.production.traffic.latencyRatio: 0.5 is out of range; allowed a ratio 1–100'],
    ['an unknown choice for too few requests', { traffic: { steps: [10], onTooFewRequests: 'wait' } }, 'environments.production.traffic.onTooFewRequests: "wait" is not allowed; expected "fail" or "pass"'],
    ['steps longer than CloudFormation waits', { traffic: { steps: [10, 25, 50], stepDuration: 900 } }, 'environments.production.traffic.stepDuration: 900s is too long for 3 steps: with 180s for late metrics and maxExtension 300s per step, and the time to give up and report, they may need 4590s; CloudFormation waits at most 3600s for a custom resource'],
    ['a standby window shorter than a deploy with steps', { standby: { window: 1900 }, traffic: { steps: [10], stepDuration: 300 } }, 'environments.production.standby.window: 1900s is too short; the standby must outlast the longest deploy, at least 2280s (gate.timeout 900s + traffic steps 1080s + bake.duration 0s + 300s)'],
    ['a standby capacity of 0', { standby: { capacity: 0 } }, 'environments.production.standby.capacity: 0 is not a standby capacity; expected "full" or a whole number 1–1000'],
    ['a standby capacity above max', { standby: { capacity: 5 } }, 'environments.production.standby.capacity: 5 is more than capacity.max 4; expected "full" or 1–4'],
    ['a standby switch as text', { standby: { enabled: 'yes' } }, 'environments.production.standby.enabled: "yes" must be true or false'],
    ['deletion protection as a string', { deletionProtection: 'yes' }, 'environments.production.deletionProtection: "yes" must be true or false'],
    // Values AWS would refuse at deploy time, refused here first.
    ['Host as the preview header', { preview: { header: 'Host' } }, 'environments.production.preview.header: "Host" is a header an ALB rule cannot match (it matches Host with a host-header condition); expected another name, such as "X-Greenlight-Release"'],
    ['host as the preview header, in any case', { preview: { header: 'HOST' } }, expect.stringContaining('environments.production.preview.header: "HOST" is a header an ALB rule cannot match')],
    ['a cron minute of 60', { scaling: { scheduled: [{ name: 'am', cron: '60 7 * * *', min: 2 }] } }, 'environments.production.scaling.scheduled[0].cron: "60 7 * * *" is not a cron expression: the minute "60" is out of range; allowed 0–59'],
    ['a cron hour of 24', { scaling: { scheduled: [{ name: 'am', cron: '0 24 * * *', min: 2 }] } }, 'environments.production.scaling.scheduled[0].cron: "0 24 * * *" is not a cron expression: the hour "24" is out of range; allowed 0–23'],
    ['a cron day of month 0', { scaling: { scheduled: [{ name: 'am', cron: '0 7 0 * *', min: 2 }] } }, 'environments.production.scaling.scheduled[0].cron: "0 7 0 * *" is not a cron expression: the day-of-month "0" is out of range; allowed 1–31'],
    ['a cron month 13', { scaling: { scheduled: [{ name: 'am', cron: '0 7 1 13 *', min: 2 }] } }, 'environments.production.scaling.scheduled[0].cron: "0 7 1 13 *" is not a cron expression: the month "13" is out of range; allowed 1–12 or JAN–DEC'],
    ['a cron week day that does not exist', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * MON-FRU', min: 2 }] } }, 'environments.production.scaling.scheduled[0].cron: "0 7 * * MON-FRU" is not a cron expression: the day-of-week "FRU" is out of range; allowed 0–7 or SUN–SAT'],
    ['a cron range that runs backwards', { scaling: { scheduled: [{ name: 'am', cron: '0 18-7 * * *', min: 2 }] } }, 'environments.production.scaling.scheduled[0].cron: "0 18-7 * * *" is not a cron expression: the hour range "18-7" runs backwards'],
    ['a cron step of 0', { scaling: { scheduled: [{ name: 'am', cron: '*/0 * * * *', min: 2 }] } }, 'environments.production.scaling.scheduled[0].cron: "*/0 * * * *" is not a cron expression: the minute step "0" is not a whole number from 1'],
    ['a time zone in lower case', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *', timeZone: 'europe/london', min: 2 }] } }, 'environments.production.scaling.scheduled[0].timeZone: "europe/london" is not a time zone AWS accepts; time zone names are case-sensitive: expected "Europe/London"'],
    ['a time zone in capitals', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *', timeZone: 'AMERICA/NEW_YORK', min: 2 }] } }, expect.stringContaining('expected "America/New_York"')],
    ['an instance type without a size', { instanceType: 't3' }, 'environments.production.instanceType: "t3" is not an instance type; expected an EC2 instance type such as "t3.small"'],
    ['a VPC of one availability zone', { vpc: { maxAzs: 1 } }, 'environments.production.vpc.maxAzs: 1 is out of range; allowed a whole number 2–6 (an Application Load Balancer needs subnets in two availability zones or more)'],
    [
      'an imported VPC of one availability zone',
      { vpc: { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a'], publicSubnetIds: ['subnet-0123456789abcdef0'], privateSubnetIds: ['subnet-0123456789abcdef2'] } },
      'environments.production.vpc.availabilityZones: lists 1 availability zone; allowed 2–6',
    ],
    ['a user tag that replaces greenlight:app', { tags: { 'greenlight:app': 'other' } }, 'environments.production.tags.greenlight:app: "greenlight:app" would replace one of greenlight\'s own tags, which its commands look releases up by; expected a key not starting with "greenlight:"'],
    ['a user tag in greenlight\'s namespace', { tags: { 'greenlight:release': 'x' } }, expect.stringContaining('environments.production.tags.greenlight:release: "greenlight:release" would replace one of greenlight\'s own tags')],
    // Messages that show the value received, in words.
    ['scheduled actions as an object', { scaling: { scheduled: { name: 'am', cron: '0 7 * * *', min: 2 } } }, 'environments.production.scaling.scheduled: {"name":"am","cron":"0 7 * * *","min":2} is not a list of scheduled actions'],
    ['a matcher given as a list', { healthCheck: { matcher: [200] } }, 'environments.production.healthCheck.matcher: [200] is not a valid matcher; expected HTTP codes 200–499 as "200", "200,202" or "200-299"'],
    ['a listener as text', { listener: 'HTTPS' }, 'environments.production.listener: "HTTPS" is not a listener; expected { "protocol": "HTTP" } or { "protocol": "HTTPS", "certificateArn": "arn:aws:acm:…" }'],
    ['a listener without a protocol', { listener: {} }, 'environments.production.listener.protocol: is required; allowed "HTTP" or "HTTPS"'],
    ['a health check of null', { healthCheck: null }, 'environments.production.healthCheck: null is not allowed; expected a group of settings, { … }'],
    ['tags of null', { tags: null }, 'environments.production.tags: null is not allowed; expected a group of settings, { … }'],
    ['a region of null', { region: null }, expect.stringMatching(/^environments\.production\.region: null is not an AWS region; expected one of /)],
    ['a threshold as text', { healthCheck: { healthyThreshold: '3' } }, 'environments.production.healthCheck.healthyThreshold: "3" is not a whole number; allowed 2–10'],
    ['an account id as a number', { account: 123456789012 }, 'environments.production.account: 123456789012 is a number, not text; expected 12 digits, in quotes: "123456789012"'],
    ['a matcher as a number', { healthCheck: { matcher: 200 } }, 'environments.production.healthCheck.matcher: 200 is a number, not text; expected HTTP codes 200–499 as "200", "200,202" or "200-299", in quotes: "200"'],
    ['a standby switch of null', { standby: { enabled: null } }, 'environments.production.standby.enabled: null must be true or false'],
  ];

  it.each(cases)('rejects %s', (_name, patch, message) => {
    const problems = problemsOf(() => loadProduction(patch));
    expect(problems).toEqual(expect.arrayContaining([message]));
    for (const problem of problems) expect(problem).not.toContain('\n');
  });

  it.each([
    ['any region aws-cdk-lib knows', { region: 'eusc-de-east-1' }],
    ['an x86_64 GPU type', { instanceType: 'g4dn.xlarge' }],
    ['an x86_64 type with attributes', { instanceType: 'm7i-flex.large' }],
    ['any health path over HTTP', { healthCheck: { path: '/status/' } }],
    ['a tag key that merely contains aws:', { tags: { 'team:aws:cost': 'x' } }],
    ['a tag key that merely contains greenlight:', { tags: { 'team:greenlight:owner': 'x' } }],
    ['a preview header that only starts with Host', { preview: { header: 'X-Host' } }],
    ['cron with names, ranges, steps and lists', { scaling: { scheduled: [{ name: 'am', cron: '*/15 7-19/2 1,15 JAN-MAR mon-fri', min: 2 }] } }],
    ['Sunday as 7', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * 7', min: 2 }] } }],
    ['a time zone in its own case', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *', timeZone: 'America/New_York', min: 2 }] } }],
    ['UTC', { scaling: { scheduled: [{ name: 'am', cron: '0 7 * * *', timeZone: 'UTC', min: 2 }] } }],
    ['a flex instance type', { instanceType: 'c7i-flex.large' }],
    ['a metal instance type', { instanceType: 'm5.metal' }],
    ['a gate timeout at the bound of its poll interval', { gate: { timeout: 3465, pollInterval: 15 } }],
  ])('accepts %s', (_name, patch) => {
    expect(() => loadProduction(patch)).not.toThrow();
  });

  it.each(['admin', 'www-data', 'sshd', 'nobody', 'messagebus'])('refuses the app name %s, a user the image already has', (app) => {
    expect(problemsOf(() => loadSettings({ app, environments: { production: minimalEnvironment() } }))).toEqual([
      `app: "${app}" is already a user on the release image, and the app runs as a user of its own name; choose another app name`,
    ]);
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf(() => loadProduction({ account: 'x', deregistrationDelay: 9999 }));
    expect(problems).toHaveLength(2);
    const err = (() => {
      try {
        loadProduction({ account: 'x', deregistrationDelay: 9999 });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err?.message).toBe(
      'invalid configuration in cdk.json:\n' +
        '  environments.production.account: "x" is not an AWS account id; expected 12 digits\n' +
        '  environments.production.deregistrationDelay: 9999s is out of range; allowed 0–3600s',
    );
  });

  it('requires app and at least one environment', () => {
    expect(problemsOf(() => loadSettings({ environments: {} }))).toEqual([
      'app: is required; allowed 3–32 lowercase letters, digits or hyphens, starting with a letter',
      'environments: must define at least one environment',
    ]);
    expect(problemsOf(() => loadSettings({ app: 'shop' }))).toEqual(['environments: is required']);
  });

  it('rejects an environment name that cannot be part of a stack name', () => {
    expect(problemsOf(() => loadSettings({ app: 'shop', environments: { Prod_1: minimalEnvironment() } }))).toContain(
      'environments.Prod_1: "Prod_1" is not an environment name; expected 1–16 lowercase letters or digits, starting with a letter',
    );
  });
});

describe('a cdk.json that is not JSON', () => {
  it('is one line naming the file, the line and the column, not a character offset', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'greenlight-broken-json-'));
    writeFileSync(path.join(dir, 'cdk.json'), '{\n  "app": "npx tsx bin/app.ts",\n  "context": { "app" "shop" }\n}\n');
    let message = '';
    try {
      readCdkJson(dir);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(new RegExp(`^${path.join(dir, 'cdk.json')} is not valid JSON: .* at line 3, column 22$`));
    expect(message).not.toMatch(/position/);
  });

  it.each([
    ['Node 20', 'Unexpected token x in JSON at position 4'],
    ['Node 22', 'Unexpected token \'x\', "{\n  x" is not valid JSON at position 4 (line 2 column 3)'],
  ])("turns %s's offset into a line and a column", (_node, message) => {
    expect(withLineAndColumn(message, '{\n  x')).toMatch(/ at line 2, column 3$/);
  });

  it('leaves a message without an offset as it is', () => {
    expect(withLineAndColumn('Unexpected end of JSON input', '{')).toBe('Unexpected end of JSON input');
  });
});

describe('the top-level keys of the context', () => {
  const load = (context: Record<string, unknown>) => loadSettings(context, { contextKeys: Object.keys(context) });

  it('refuses a misspelt appSource, naming the key it is close to, before anything else is checked', () => {
    const context = { ...cdkContext(), appSorce: 'examples/django-app' };
    expect(problemsOf(() => load(context))).toEqual([
      'appSorce: unknown setting (did you mean appSource?); greenlight reads app, appSource, environments from the context and ' +
        '-c env=, -c release=, -c ami=, -c standby=, -c deployTime=, -c rollback= from the command line',
    ]);
  });

  it('refuses a plain word greenlight does not read, without a guess when none is close', () => {
    expect(problemsOf(() => load({ ...cdkContext(), team: 'platform' }))).toEqual([expect.stringMatching(/^team: unknown setting; greenlight reads /)]);
  });

  it("leaves the CDK's own keys alone: feature flags, lookups and the toolkit's, and greenlight's -c keys", () => {
    const context = {
      ...cdkContext(),
      '@aws-cdk/aws-ec2:restrictDefaultSecurityGroup': true,
      'availability-zones:account=111111111111:region=eu-west-1': ['eu-west-1a'],
      'acknowledged-issue-numbers': [1],
      'aws:cdk:enable-path-metadata': true,
      env: 'staging',
      release: 'r1',
    };
    expect(() => load(context)).not.toThrow();
  });

  it('knows every key bin/app.ts takes from the context', () => {
    const source = readFileSync(path.join(REPO_ROOT, 'bin', 'app.ts'), 'utf8');
    const read = [...source.matchAll(/context\('([A-Za-z]+)'\)/g)].map((m) => m[1]);
    expect(new Set(read)).toEqual(new Set([...SETTINGS_KEYS, ...COMMAND_LINE_KEYS]));
  });
});

describe('selectEnvironments', () => {
  const settings = loadSettings(cdkContext());

  it('selects every environment by default', () => {
    expect(selectEnvironments(settings, undefined).map(([name]) => name)).toEqual(Object.keys(cdkContext().environments));
  });

  it('selects one environment by name', () => {
    expect(selectEnvironments(settings, 'production').map(([name]) => name)).toEqual(['production']);
  });

  it('names the environments that exist when the one asked for does not', () => {
    expect(() => selectEnvironments(settings, 'nowhere')).toThrow(
      `-c env=nowhere: unknown environment; defined in cdk.json: ${Object.keys(cdkContext().environments).join(', ')}`,
    );
  });
});

describe("loadSettings with the app's manifest", () => {
  const https = { protocol: 'HTTPS', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0b6c9d2e-1f3a-4c5b-8d7e-9f0a1b2c3d4e' };
  const withApp = (app: Record<string, string>, env: Record<string, unknown>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'greenlight-manifest-'));
    const root = path.join(dir, 'project');
    mkdirSync(path.join(dir, 'app'), { recursive: true });
    mkdirSync(root);
    const lines = Object.entries(app).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
    writeFileSync(
      path.join(dir, 'app', 'pyproject.toml'),
      ['[tool.greenlight]', 'wsgi = "shop.wsgi:application"', 'settings = "shop.settings"', 'required-env = []', ...lines, ''].join('\n'),
    );
    writeFileSync(path.join(dir, 'app', 'requirements.txt'), '');
    const context = { app: 'shop', appSource: '../app', environments: { production: { ...minimalEnvironment(), ...env } } };
    return () => loadSettings(context, { projectRoot: root });
  };

  it.each([
    ['the health-path', '/ready/'],
    ['the liveness-path', '/alive/'],
  ])('accepts an HTTPS health check on %s, which nginx serves without the redirect', (_, checked) => {
    const load = withApp({ 'health-path': '/ready/', 'liveness-path': '/alive/' }, { listener: https, healthCheck: { path: checked } });
    expect(load().environments.production.healthCheck.path).toBe(checked);
  });

  it.each([
    ['another path', '/health/'],
    ['the health path without its trailing slash', '/ready'],
  ])('refuses an HTTPS health check on %s, naming the paths the manifest allows', (_, checked) => {
    const load = withApp({ 'health-path': '/ready/' }, { listener: https, healthCheck: { path: checked } });
    expect(problemsOf(load)).toEqual([
      expect.stringMatching(
        new RegExp(`^environments\\.production\\.healthCheck\\.path: "${checked.replace(/\//g, '\\/')}" would get nginx's HTTPS redirect \\(a 301\\) on the load balancer's plain-HTTP check; with an HTTPS listener allowed the app's health-path "/ready/" \\(.*pyproject\\.toml\\)$`),
      ),
    ]);
  });

  it('leaves an HTTP environment alone, since nothing redirects it', () => {
    const load = withApp({ 'health-path': '/ready/' }, { healthCheck: { path: '/health/' } });
    expect(load().environments.production.healthCheck.path).toBe('/health/');
  });

  it('names appSource when its directory does not exist', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'greenlight-no-app-'));
    const context = { app: 'shop', appSource: 'no-such-app', environments: { production: minimalEnvironment() } };
    expect(problemsOf(() => loadSettings(context, { projectRoot: root }))).toEqual([
      `appSource: "no-such-app" is not a directory (${path.join(root, 'no-such-app')}); expected the app's Django project, relative to cdk.json`,
    ]);
  });

  it('names appSource and the manifest when the directory has none', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'greenlight-no-manifest-'));
    mkdirSync(path.join(root, 'shop'));
    const context = { app: 'shop', appSource: 'shop', environments: { production: minimalEnvironment() } };
    expect(problemsOf(() => loadSettings(context, { projectRoot: root }))).toEqual([
      expect.stringMatching(new RegExp(`^appSource: "shop": ${path.join(root, 'shop', 'pyproject.toml')}: not found; create it next to manage\\.py`)),
    ]);
  });

  it("checks cdk.json's own environments against the example app's manifest", () => {
    const context = cdkContext();
    expect(context.appSource).toBe('examples/django-app');
    expect(Object.keys(loadSettings(context, { projectRoot: REPO_ROOT }).environments).length).toBeGreaterThan(0);
  });
});
