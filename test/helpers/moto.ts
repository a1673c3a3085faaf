// moto, the AWS API emulator, as a server on a free loopback port for integration tests over real
// HTTP. Tests point the SDK at it with AWS_ENDPOINT_URL (see `motoEnv`) and stop it by PID.
//
//   const moto = await startMoto();           // in beforeAll, after `describe.skipIf(!MOTO.available)`
//   await moto.stop();                        // in afterAll
//
// Where python3 has no moto, MOTO.available is false and MOTO.skipReason says how to install it.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

// Finds the packages without importing them: importing moto costs more than half a second of CPU
// in every file that loads this helper. A broken install still fails, in startMoto, with moto's output.
const probe = spawnSync(
  'python3',
  ['-c', 'import importlib.metadata as m, importlib.util as u; assert all(u.find_spec(p) for p in ("moto", "flask", "werkzeug")); print(m.version("moto"))'],
  { encoding: 'utf8' },
);

export const MOTO = {
  available: probe.status === 0,
  version: probe.status === 0 ? probe.stdout.trim() : undefined,
  skipReason: "moto is not installed for python3; install it with `pip install 'moto[server]'` to run the AWS integration tests",
} as const;

export interface Moto {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly pid: number;
  /** Environment for an SDK client or a CLI process: endpoint, region and dummy credentials. */
  readonly env: Readonly<Record<string, string>>;
  /** Forgets every resource, so one server can serve several tests. */
  reset(): Promise<void>;
  /** Stops the server by its PID and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * One moto server for the enclosing describe block: started before its tests, with its endpoint,
 * region and dummy credentials in process.env, and stopped by PID after them.
 */
export function useMoto(started: (moto: Moto) => void): void {
  let moto: Moto | undefined;
  let saved: NodeJS.ProcessEnv = {};
  beforeAll(async () => {
    moto = await startMoto();
    saved = { ...process.env };
    Object.assign(process.env, moto.env);
    started(moto);
  });
  afterAll(async () => {
    process.env = saved;
    await moto?.stop();
  });
}

/** A port nobody listens on right now, from the kernel's ephemeral range. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export const motoEnv = (endpoint: string, region = 'eu-west-1'): Record<string, string> => ({
  AWS_ENDPOINT_URL: endpoint,
  AWS_REGION: region,
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_EC2_METADATA_DISABLED: 'true',
  // One attempt: a test against a local server should fail at once, not back off.
  AWS_MAX_ATTEMPTS: '1',
});

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts `python3 -m moto.server` on a free loopback port and waits until it answers (at most `readyMs`). */
export async function startMoto(readyMs = 30_000): Promise<Moto> {
  if (!MOTO.available) throw new Error(MOTO.skipReason);
  // Another process may take the port between the probe and the bind: try a few.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      if (output.length < 10_000) output += chunk.toString();
    });
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await exited(child);
    };
    const ready = await waitUntil(readyMs, async () => {
      if (child.exitCode !== null) return true;
      try {
        return (await fetch(`${endpoint}/moto-api/`)).ok;
      } catch {
        return false;
      }
    });
    if (ready && child.exitCode === null) {
      return {
        endpoint,
        pid: child.pid ?? -1,
        env: motoEnv(endpoint),
        reset: async () => {
          const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
          if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
        },
        stop,
      };
    }
    await stop();
    if (attempt === 3 || !/address already in use/i.test(output)) {
      throw new Error(`moto did not start on ${endpoint} within ${readyMs} ms: ${output.slice(-2000)}`);
    }
  }
  throw new Error('unreachable');
}

/** Polls `condition` every 100 ms until it holds or `ms` pass; true when it held. */
export async function waitUntil(ms: number, condition: () => Promise<boolean> | boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * One EC2 Query API call (the project has no EC2 SDK client). moto does not check signatures, so
 * the request carries only a credential scope naming the region. Returns the XML response body.
 */
export async function ec2(moto: Pick<Moto, 'endpoint'>, action: string, params: Record<string, string> = {}, region = 'eu-west-1'): Promise<string> {
  const body = new URLSearchParams({ Action: action, Version: '2016-11-15', ...params });
  const res = await fetch(`${moto.endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${region}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`EC2 ${action} failed with ${res.status}: ${text.slice(0, 500)}`);
  return text;
}

/** The first `<tag>value</tag>` in an XML body. */
export function xmlValue(xml: string, tag: string): string {
  const value = xml.match(new RegExp(`<${tag}>([^<]*)</${tag}>`))?.[1];
  if (value === undefined) throw new Error(`no <${tag}> in ${xml.slice(0, 300)}`);
  return value;
}

/**
 * An Amazon Linux 2 image from moto's own list, to launch instances from. Asked for by name: the
 * whole list is over a thousand images, a megabyte of XML that costs moto about a second of CPU.
 */
export async function amazonLinuxImage(moto: Pick<Moto, 'endpoint'>, region = 'eu-west-1'): Promise<string> {
  const filter = { 'Owner.1': 'amazon', 'Filter.1.Name': 'name', 'Filter.1.Value.1': 'amzn2-ami-hvm-*-x86_64-gp2' };
  return xmlValue(await ec2(moto, 'DescribeImages', filter, region), 'imageId');
}

export interface MotoNetwork {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** The launch template's image. */
  readonly imageId: string;
  readonly launchTemplateName: string;
}

/** A VPC with one subnet per zone and a launch template of an Amazon Linux 2 image, enough for an Auto Scaling group. */
export async function createNetwork(moto: Pick<Moto, 'endpoint'>, zones: readonly string[] = ['eu-west-1a', 'eu-west-1b']): Promise<MotoNetwork> {
  const vpcId = xmlValue(await ec2(moto, 'CreateVpc', { CidrBlock: '10.0.0.0/16' }), 'vpcId');
  const subnetIds: string[] = [];
  for (const [i, zone] of zones.entries()) {
    const xml = await ec2(moto, 'CreateSubnet', { VpcId: vpcId, CidrBlock: `10.0.${i}.0/24`, AvailabilityZone: zone });
    subnetIds.push(xmlValue(xml, 'subnetId'));
  }
  const imageId = await amazonLinuxImage(moto);
  const launchTemplateName = `lt-${vpcId}`;
  await ec2(moto, 'CreateLaunchTemplate', {
    LaunchTemplateName: launchTemplateName,
    'LaunchTemplateData.ImageId': imageId,
    'LaunchTemplateData.InstanceType': 't3.small',
  });
  return { vpcId, subnetIds, imageId, launchTemplateName };
}
