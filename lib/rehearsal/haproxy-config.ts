// HAProxy stands in for the load balancer. Its health checks are rendered from the environment's
// healthCheck settings (path, interval, timeout, thresholds, matcher), so the rehearsal checks an
// instance exactly as the target group would. Pure: strings in, strings out.
import { PREVIEW_KEY_HEADER, PREVIEW_KEY_PATTERN } from '../preview/key';
import type { EnvironmentSettings } from '../config/schema';

type HealthCheckSettings = EnvironmentSettings['healthCheck'];

/** A health check in HAProxy's terms: milliseconds and counts. */
export interface CheckSettings {
  readonly path: string;
  /** `inter`: the target group's interval. */
  readonly intervalMs: number;
  /** `timeout check`: the target group's timeout. */
  readonly timeoutMs: number;
  /** `rise`: the target group's healthy threshold. */
  readonly rise: number;
  /** `fall`: the target group's unhealthy threshold. */
  readonly fall: number;
  /** The target group's matcher: "200", "200,202" or "200-299". */
  readonly matcher: string;
}

/** The environment's health check, with every duration multiplied by `timeScale` (1 = as configured). */
export function checkSettingsFrom(hc: HealthCheckSettings, timeScale: number): CheckSettings {
  return {
    path: hc.path,
    intervalMs: Math.max(1, Math.round(hc.interval * 1000 * timeScale)),
    timeoutMs: Math.max(1, Math.round(hc.timeout * 1000 * timeScale)),
    rise: hc.healthyThreshold,
    fall: hc.unhealthyThreshold,
    matcher: hc.matcher,
  };
}

/** One instance behind the load balancer: its own loopback address, like a private IP. */
export interface ServerSpec {
  /** `blue-1`, `green-2`: the rehearsal's instance id. */
  readonly name: string;
  /** 127.0.1.N. */
  readonly address: string;
  readonly port: number;
}

/** One release's instances: the rehearsal's stand-in for a release's target group. */
export interface BackendSpec {
  /** `release-<id>`. */
  readonly name: string;
  /** The release id, which the preview header names. @default no preview route to this backend */
  readonly release?: string;
  /**
   * The release's preview key, which the preview route also requires, like the keyed rule on AWS.
   * @default the header alone routes to this backend
   */
  readonly previewKey?: string;
  readonly check: CheckSettings;
  /** Servers present when HAProxy starts (the live fleet); later ones join through `add server`. */
  readonly servers: readonly ServerSpec[];
}

export interface HaproxyConfigProps {
  /** Where clients connect: the listener. */
  readonly frontend: { readonly address: string; readonly port: number };
  /** The runtime API socket (admin level) the gate polls. */
  readonly socketPath: string;
  /** Map file holding `live <backend>`; rewriting its entry at runtime is the atomic cutover. */
  readonly liveMapPath: string;
  /** The backend that serves first. */
  readonly liveBackend: string;
  /** The environment's listener protocol, passed on as X-Forwarded-Proto like a load balancer does. @default 'HTTP' */
  readonly listenerProtocol?: 'HTTP' | 'HTTPS';
  /**
   * The preview route: a request whose `header` names a release goes to that release's backend,
   * live or not, like the listener rule that forwards it to the release's target group.
   * @default no preview route
   */
  readonly preview?: { readonly header: string };
  /**
   * Progressive traffic: `backend` gets the share of the listener's requests that the weights map's
   * `weight` entry names (0–100, changed at runtime with `set map`), the live map's backend the rest,
   * like a weighted forward between two target groups. Each request is logged with its backend,
   * status and server response time, which the steps read for the p99 of each release.
   * @default every request goes to the live map's backend, and none is logged
   */
  readonly canary?: { readonly backend: string; readonly weightsMapPath: string };
  readonly backends: readonly BackendSpec[];
}

/** The prefix of each request's log line: `greenlight-request <epoch ms> <backend> <status> <Tr ms>`. */
export const REQUEST_LOG_PREFIX = 'greenlight-request';

const ADDRESS = /^127\.\d{1,3}\.\d{1,3}\.(\d{1,3})$/;

/**
 * HAProxy's server id, which is the address's last octet. The check's Host header is built from it
 * (`127.0.1.%[srv_id]`) because a backend-wide `http-check send` cannot name each server's address,
 * and a load balancer's check carries the instance's own IP as Host.
 */
export function serverId(server: ServerSpec): number {
  const match = ADDRESS.exec(server.address);
  const id = match ? Number(match[1]) : NaN;
  if (!(id >= 1 && id <= 254)) {
    throw new Error(`server ${server.name}: address ${server.address} is not a loopback address 127.x.y.1–254`);
  }
  return id;
}

/** `127.0.1.` for servers on 127.0.1.N; every server of a backend must share it. */
function addressPrefix(backend: BackendSpec, servers: readonly ServerSpec[]): string {
  const prefixes = new Set(servers.map((s) => s.address.slice(0, s.address.lastIndexOf('.') + 1)));
  if (prefixes.size > 1) {
    throw new Error(`backend ${backend.name}: servers span ${[...prefixes].join(', ')}; they must share one /24`);
  }
  return [...prefixes][0] ?? '127.0.1.';
}

/** The matcher in `http-check expect status` syntax, which also takes lists and ranges. */
export function expectStatus(matcher: string): string {
  if (!/^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/.test(matcher)) {
    throw new Error(`healthCheck.matcher: ${JSON.stringify(matcher)} is not "200", "200,202" or "200-299"`);
  }
  return matcher;
}

/**
 * The per-server check options. Servers added at runtime do not inherit `default-server`, so every
 * server line carries them in full; fastinter and downinter stay equal to inter, as a target group
 * has a single interval.
 */
export function serverCheckOptions(check: CheckSettings): string {
  return `check inter ${check.intervalMs} fastinter ${check.intervalMs} downinter ${check.intervalMs} rise ${check.rise} fall ${check.fall}`;
}

/** The `server` line, also the argument of the runtime API's `add server`. */
export function serverLine(server: ServerSpec, check: CheckSettings): string {
  return `${server.name} ${server.address}:${server.port} id ${serverId(server)} ${serverCheckOptions(check)}`;
}

/** Runtime API command that registers an instance, the way an Auto Scaling group registers a target. */
export function addServerCommand(backend: string, server: ServerSpec, check: CheckSettings): string {
  return `add server ${backend}/${serverLine(server, check)}`;
}

/**
 * Commands that turn a freshly added server (in maintenance) on in the state a new target starts
 * in: checked, but down until `rise` checks pass. HAProxy would otherwise count it up at once.
 * Drain first, so no request can reach it between the steps.
 */
export function enableServerCommands(backend: string, server: string): string[] {
  const id = `${backend}/${server}`;
  return [`enable health ${id}`, `set server ${id} state drain`, `set server ${id} health down`, `set server ${id} state ready`];
}

function renderBackend(backend: BackendSpec): string {
  const { check } = backend;
  const prefix = addressPrefix(backend, backend.servers);
  return [
    `backend ${backend.name}`,
    '  balance roundrobin',
    '  option forwardfor',
    '  option httpchk',
    // Plain HTTP/1.1 with the instance's address as Host and no X-Forwarded-Proto, as a target group sends it.
    `  http-check send meth GET uri ${check.path} ver HTTP/1.1 hdr Host "${prefix}%[srv_id]"`,
    `  http-check expect status ${expectStatus(check.matcher)}`,
    `  timeout check ${check.timeoutMs}`,
    ...backend.servers.map((s) => `  server ${serverLine(s, check)}`),
  ].join('\n');
}

// Header names HAProxy's configuration parser takes inside req.hdr() without quoting.
const HAPROXY_HEADER_NAME = /^[A-Za-z0-9!$%&*+.^_|~-]{1,40}$/;

/** One `use_backend ... if` line per release backend: the preview route, ahead of the live map. */
export function previewRules(header: string, backends: readonly BackendSpec[]): string[] {
  if (!HAPROXY_HEADER_NAME.test(header)) {
    throw new Error(`preview.header ${JSON.stringify(header)}: the rehearsal's HAProxy takes letters, digits and !$%&*+.^_|~- only`);
  }
  return backends
    .filter((b) => b.release !== undefined)
    .map((b) => {
      if (!/^[A-Za-z0-9._-]+$/.test(b.release as string)) throw new Error(`release ${JSON.stringify(b.release)} has characters HAProxy does not allow`);
      if (b.previewKey !== undefined && !PREVIEW_KEY_PATTERN.test(b.previewKey)) throw new Error(`backend ${b.name}: its preview key is not one newPreviewKey makes`);
      // Exact match on any occurrence of the header, as the load balancer's http-header condition;
      // a keyed backend also needs its key, as the keyed rule does.
      const key = b.previewKey === undefined ? '' : ` { req.hdr(${PREVIEW_KEY_HEADER}) -m str ${b.previewKey} }`;
      return `  use_backend ${b.name} if { req.hdr(${header}) -m str ${b.release} }${key}`;
    });
}

/** The whole haproxy.cfg: one listener routed by the live map, one backend per release. */
export function renderHaproxyConfig(props: HaproxyConfigProps): string {
  if (!props.backends.some((b) => b.name === props.liveBackend)) {
    throw new Error(`liveBackend ${props.liveBackend} is not one of the backends: ${props.backends.map((b) => b.name).join(', ')}`);
  }
  for (const backend of props.backends) {
    if (!/^[A-Za-z0-9._-]+$/.test(backend.name)) throw new Error(`backend name ${JSON.stringify(backend.name)} has characters HAProxy does not allow`);
    if (/[\s"'#\\]/.test(backend.check.path)) throw new Error(`healthCheck.path ${JSON.stringify(backend.check.path)} cannot go into an HAProxy check line`);
  }
  const lines = [
    '# Rendered by greenlight rehearse from the environment health-check settings.',
    'global',
    `  stats socket ${props.socketPath} mode 600 level admin`,
    '  stats timeout 10s',
    ...(props.canary ? ['  log stdout format raw local0'] : []),
    '',
    'defaults',
    '  mode http',
    ...(props.canary ? ['  log global'] : []),
    '  option dontlognull',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    '  timeout http-request 10s',
    '  timeout http-keep-alive 10s',
    '',
    'frontend listener',
    `  bind ${props.frontend.address}:${props.frontend.port}`,
    // TLS would end here; the app sees how the client arrived, and nginx redirects plain http when TLS is on.
    `  http-request set-header X-Forwarded-Proto ${props.listenerProtocol === 'HTTPS' ? 'https' : 'http'}`,
    ...(props.canary
      ? [
          // %Tr is the time from sending the request to the server until its response headers, as a target group's TargetResponseTime.
          `  log-format "${REQUEST_LOG_PREFIX} %Ts%ms %b %ST %Tr"`,
          `  http-request set-var(txn.weight) str(weight),map_str_int(${props.canary.weightsMapPath},0)`,
        ]
      : []),
    ...(props.preview ? previewRules(props.preview.header, props.backends) : []),
    // A weighted forward: each request draws 0–99, and one below the weight goes to the new release.
    ...(props.canary ? [`  use_backend ${props.canary.backend} if { rand(100),sub(txn.weight) -m int lt 0 }`] : []),
    // The listener's default: whichever backend the map names is live. `set map` swaps it atomically.
    `  use_backend %[str(live),map(${props.liveMapPath},${props.liveBackend})]`,
    '  http-response set-header X-Greenlight-Served-By %[be_name]/%[srv_name]',
    '',
    ...props.backends.flatMap((b) => [renderBackend(b), '']),
  ];
  return lines.join('\n');
}

/** The live map's content. */
export function renderLiveMap(backend: string): string {
  return `live ${backend}\n`;
}

/** The weights map's content: the new release's share of the listener's requests, in percent. */
export const renderWeightsMap = (percent: number): string => `weight ${percent}\n`;

/** Runtime API command for a traffic step's weights (0 puts every request back on the live backend). */
export const weightCommand = (weightsMapPath: string, percent: number): string => `set map ${weightsMapPath} weight ${percent}`;

/** Runtime API command for the cutover. */
export function cutoverCommand(liveMapPath: string, backend: string): string {
  return `set map ${liveMapPath} live ${backend}`;
}
