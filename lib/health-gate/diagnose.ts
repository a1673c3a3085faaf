// Target-health reason codes -> what to fix. The hints come from the failures the health contract
// guards against, as docs/health-contract.md lists them. Pure: the Lambda and the rehearsal share it.

/** HTTP status codes an ALB quotes in a ResponseCodeMismatch description: `Health checks failed with these codes: [301]`. */
export function responseCodes(description: string | undefined): number[] {
  const list = description?.match(/\[([\d,\s]+)\]/)?.[1];
  if (!list) return [];
  return list
    .split(',')
    .map((code) => Number(code.trim()))
    .filter((code) => Number.isInteger(code) && code >= 100 && code <= 599);
}

const HINTS = {
  redirect:
    'the health path answers with a redirect: end it with a trailing slash when the framework appends one ' +
    '(Django APPEND_SLASH), and keep the HTTPS redirect off the health path (checks arrive over plain HTTP ' +
    'without X-Forwarded-Proto)',
  host:
    "the Host header of a health check is the instance's private IP: add it to ALLOWED_HOSTS " +
    '(userdata writes it to /etc/aws/ipv4)',
  notFound: 'the health path does not exist in the app: check healthCheck.path against its URL configuration',
  notReady:
    'the app reports itself not ready: check that the database answers SELECT 1, migrations are applied and the cache answers',
  serverError:
    'the health view raised an error: run the check before any middleware that touches the database, so an outage is a clean 503',
  timeout:
    "a dependency without a connect timeout: keep the app's database connect timeout < health-check timeout < interval",
  notStarted:
    'the app did not start (nothing listening on the health port): a missing configuration value is one cause, ' +
    'since the app refuses to start without it; see the instance journal for nginx and the app service',
  badGateway:
    'nginx answers but no app listens behind it (502): the app did not start or crashed; a missing configuration ' +
    'value is one cause, since the app refuses to start without it; see `journalctl -u greenlight-app` on the instance',
  notRegistered: "the instance is not registered in the target group: check the group's target group attachment",
  registering:
    "the instance was still being registered with the load balancer: it launched late (see the group's scaling " +
    'activities), or the gate timeout is too short',
  initialChecks:
    'the load balancer had not finished its first health checks: the app starts slowly, or the gate timeout is ' +
    'shorter than healthyThreshold × interval plus the boot time',
  notInUse:
    "the target group is not used by the load balancer, or the instance's Availability Zone is not enabled for it: " +
    "check the listener's rules and the load balancer's subnets",
  deregistering:
    'the instance is being deregistered: Auto Scaling is terminating or detaching it, or something removed it from the target group',
  invalidState: "the instance is stopped or terminated: check it in EC2 and the group's scaling activities",
  ipUnusable: "the target's IP address is reserved for use by a load balancer: register instances, not that address",
  checksDisabled: 'health checks are disabled for the target group: enable them, or no instance can ever pass the gate',
  elbInternal: "the load balancer's health checks failed with an internal error on AWS's side: retry the deploy; if it persists, contact AWS support",
  autoScaling: 'Auto Scaling marked the instance unhealthy; it will be replaced',
} as const;

function hintForCodes(codes: readonly number[]): string | undefined {
  if (codes.some((c) => c === 301 || c === 302 || c === 307 || c === 308)) return HINTS.redirect;
  if (codes.includes(400)) return HINTS.host;
  if (codes.includes(404)) return HINTS.notFound;
  if (codes.includes(502)) return HINTS.badGateway;
  if (codes.includes(503)) return HINTS.notReady;
  if (codes.includes(504)) return HINTS.timeout;
  if (codes.some((c) => c >= 500)) return HINTS.serverError;
  return undefined;
}

/**
 * The hint for one target-health reason: every reason code DescribeTargetHealth documents has one.
 * The gate shows hints only in its failure diagnosis, so a code that is normal for a while
 * (registration, the first checks) says what it means when it lasts until the timeout.
 *
 * `reasonCode` is an ALB reason code (`Target.ResponseCodeMismatch`, `Target.Timeout`,
 * `Target.FailedHealthChecks`, ...); `description` is the load balancer's text, from which the HTTP
 * codes are read. A description mentioning "connection refused" is recognised whatever the code,
 * so a local load balancer can pass its own check status as the description.
 */
export function diagnose(reasonCode: string | undefined, description?: string): string | undefined {
  const text = description?.toLowerCase() ?? '';
  if (/connection refused|econnrefused/.test(text)) return HINTS.notStarted;
  switch (reasonCode) {
    case 'Target.ResponseCodeMismatch':
      return hintForCodes(responseCodes(description));
    case 'Target.Timeout':
      return HINTS.timeout;
    case 'Target.FailedHealthChecks':
      return HINTS.notStarted;
    case 'Target.NotRegistered':
      return HINTS.notRegistered;
    case 'Elb.RegistrationInProgress':
      return HINTS.registering;
    case 'Elb.InitialHealthChecking':
      return HINTS.initialChecks;
    case 'Target.NotInUse':
      return HINTS.notInUse;
    case 'Target.DeregistrationInProgress':
      return HINTS.deregistering;
    case 'Target.InvalidState':
      return HINTS.invalidState;
    case 'Target.IpUnusable':
      return HINTS.ipUnusable;
    case 'Target.HealthCheckDisabled':
      return HINTS.checksDisabled;
    case 'Elb.InternalError':
      return HINTS.elbInternal;
    case 'AutoScaling.Unhealthy':
      return HINTS.autoScaling;
    default:
      if (/timed out|timeout/.test(text)) return HINTS.timeout;
      return hintForCodes(responseCodes(description));
  }
}
