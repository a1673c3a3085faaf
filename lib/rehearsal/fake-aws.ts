// Loopback stand-ins for the two AWS endpoints first boot talks to: IMDSv2 and SSM's
// GetParametersByPath (JSON protocol). The rehearsal, doctor and the boot tests run
// userdata/bootstrap.sh against them; they record what the bootstrap asked for.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeInstance {
  readonly localIpv4: string;
  readonly instanceId: string;
}

export const INSTANCE_ROLE_KEY = 'ASIAFAKEINSTANCEROLE';

export type StubParameters = Record<string, { value: string; type?: 'String' | 'SecureString' }>;

/** The environment's configuration as SSM holds it: /greenlight/<app>/<env>/config/<NAME>, all SecureString. */
export function configParameters(app: string, env: string, config: Readonly<Record<string, string>>): StubParameters {
  return Object.fromEntries(
    Object.entries(config).map(([name, value]) => [`/greenlight/${app}/${env}/config/${name}`, { value, type: 'SecureString' as const }]),
  );
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const body = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => resolve(data));
  });

/**
 * IMDSv2 for a fleet on one loopback port: the instance registered as `name` is served under
 * `<url>/<name>/` (the endpoint its AWS_EC2_METADATA_SERVICE_ENDPOINT names). A token from
 * PUT latest/api/token is required on every GET, as on a real instance.
 */
export async function startFakeImdsFleet() {
  const token = 'fake-imds-token';
  const requests: string[] = [];
  const fleet = new Map<string, FakeInstance>();
  const server = createServer((req, res) => {
    const [, name = '', ...rest] = (req.url ?? '').split('/');
    const url = `/${rest.join('/')}`;
    const instance = fleet.get(decodeURIComponent(name));
    requests.push(`${req.method} ${url}`);
    if (!instance) return void res.writeHead(404).end();
    if (req.method === 'PUT' && url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
      return void res.end(token);
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== token) return void res.writeHead(401).end();
    const expires = new Date(Date.now() + 3600_000).toISOString();
    const paths: Record<string, string> = {
      '/latest/meta-data/local-ipv4': instance.localIpv4,
      '/latest/meta-data/instance-id': instance.instanceId,
      '/latest/meta-data/iam/security-credentials/': 'greenlight-instance',
      '/latest/meta-data/iam/security-credentials/greenlight-instance': JSON.stringify({
        Code: 'Success',
        Type: 'AWS-HMAC',
        AccessKeyId: INSTANCE_ROLE_KEY,
        SecretAccessKey: 'fake-secret',
        Token: 'fake-session-token',
        Expiration: expires,
        LastUpdated: new Date().toISOString(),
      }),
    };
    const answer = paths[url];
    if (answer === undefined) return void res.writeHead(404).end();
    res.end(answer);
  });
  const url = await listen(server);
  return {
    requests,
    /** Registers an instance; returns its IMDS endpoint. */
    add: (name: string, instance: FakeInstance) => {
      fleet.set(name, instance);
      return `${url}/${encodeURIComponent(name)}/`;
    },
    close: () => close(server),
  };
}

/** IMDSv2 for one instance. */
export async function startFakeImds(instance: FakeInstance) {
  const imds = await startFakeImdsFleet();
  return { url: imds.add('instance', instance), requests: imds.requests, close: imds.close };
}

export interface SsmRequest {
  readonly target: string;
  readonly input: Record<string, unknown>;
  readonly authorization: string;
}

/** SSM GetParametersByPath over the parameters given, in pages of two to exercise NextToken. */
export async function startStubSsm(parameters: StubParameters) {
  const requests: SsmRequest[] = [];
  const server = createServer(async (req, res) => {
    const input = JSON.parse((await body(req)) || '{}') as Record<string, unknown>;
    const target = String(req.headers['x-amz-target'] ?? '');
    requests.push({ target, input, authorization: String(req.headers.authorization ?? '') });
    res.setHeader('Content-Type', 'application/x-amz-json-1.1');
    if (target !== 'AmazonSSM.GetParametersByPath') {
      return void res.writeHead(400).end(JSON.stringify({ __type: 'InvalidAction', message: target }));
    }
    const path = String(input.Path);
    const matching = Object.entries(parameters)
      .filter(([name]) => name.startsWith(path) && (input.Recursive === true || !name.slice(path.length).includes('/')))
      .map(([name, p]) => ({
        Name: name,
        Type: p.type ?? 'String',
        // Without decryption a real SSM returns the ciphertext of a SecureString.
        Value: p.type === 'SecureString' && input.WithDecryption !== true ? 'AQICAH-ciphertext' : p.value,
        Version: 1,
      }));
    const start = Number(input.NextToken ?? 0);
    const page = matching.slice(start, start + 2);
    const next = start + 2 < matching.length ? String(start + 2) : undefined;
    res.end(JSON.stringify({ Parameters: page, ...(next ? { NextToken: next } : {}) }));
  });
  return { url: await listen(server), requests, close: () => close(server) };
}
