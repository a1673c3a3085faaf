// The smoke handler against a real HTTP server on loopback standing in for the load balancer's
// preview listener; SSM is mocked underneath the outbound module.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CdkCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClients } from '../../lib/aws/clients';
import { smokeHandler } from '../../lib/smoke/handler';
import { parseSmokeRecord } from '../../lib/smoke/record';
import { requestPath } from '../../lib/smoke/request';

const ssm = mockClient(SSMClient);
let server: Server;
let baseUrl: string;
const seen: Array<{ path: string; header: string | undefined; key?: string }> = [];
const KEY = 'a3'.repeat(32);

beforeAll(async () => {
  // Answers like a load balancer whose preview rule matches only the release's header.
  server = createServer((req, res) => {
    const key = req.headers['x-greenlight-preview-key'] as string | undefined;
    seen.push({ path: req.url ?? '', header: req.headers['x-greenlight-release'] as string | undefined, ...(key ? { key } : {}) });
    // A keyed release (r4) also needs its key, like its keyed rule.
    if (!((req.headers['x-greenlight-release'] === 'r2' && !key) || (req.headers['x-greenlight-release'] === 'r4' && key === KEY))) {
      res.writeHead(404).end('not found');
      return;
    }
    if (req.url === '/orders/') res.writeHead(500).end('Traceback (most recent call last):\n  File "views.py", line 3\nProgrammingError: relation "orders" does not exist');
    else if (req.url === '/slow/') setTimeout(() => res.writeHead(200).end('late'), 3000);
    else res.writeHead(200).end('<html>ok</html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

let lines: string[] = [];
beforeEach(() => {
  ssm.reset();
  ssm.on(PutParameterCommand).resolves({});
  seen.length = 0;
  lines = [];
});

const onEvent = smokeHandler({ clients: () => createClients('eu-west-1'), request: requestPath, now: () => 1_000, log: (l) => lines.push(l) });

const event = (overrides: Record<string, unknown> = {}, type = 'Create'): CdkCustomResourceEvent =>
  ({
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:eu-west-1:111111111111:function:smoke',
    ResponseURL: 'https://example.invalid/signed?X-Amz-Signature=secret',
    StackId: 'arn:aws:cloudformation:eu-west-1:111111111111:stack/shop-staging/1',
    RequestId: 'req-1',
    LogicalResourceId: 'Smoke',
    ResourceType: 'Custom::SmokeCheck',
    PhysicalResourceId: '/greenlight/shop/staging/smoke/r2',
    ResourceProperties: {
      ServiceToken: 'x',
      Release: 'r2',
      BaseUrl: baseUrl,
      Header: 'X-Greenlight-Release',
      Paths: ['/', '/health/'],
      ExpectedStatuses: '200',
      TimeoutSeconds: '2',
      ResultParameter: '/greenlight/shop/staging/smoke/r2',
      ...overrides,
    },
  }) as CdkCustomResourceEvent;

const stored = () => parseSmokeRecord(ssm.commandCalls(PutParameterCommand)[0]?.args[0].input.Value);

describe('smoke handler', () => {
  it('passes when every path answers 200 through the preview header, and records it', async () => {
    const out = await onEvent(event());
    expect(out).toEqual({
      PhysicalResourceId: '/greenlight/shop/staging/smoke/r2',
      Data: { Verdict: 'pass', Message: 'smoke: 2/2 paths answered 200 (/, /health/)' },
    });
    expect(seen.map((s) => s.header)).toEqual(['r2', 'r2']);
    expect(stored()).toMatchObject({ runId: 'req-1', release: 'r2', verdict: 'pass' });
    expect(ssm.commandCalls(PutParameterCommand)[0].args[0].input.Name).toBe('/greenlight/shop/staging/smoke/r2');
    expect(lines.join('\n')).not.toContain('X-Amz-Signature');
  });

  it('fails with the status and the start of the body', async () => {
    await expect(onEvent(event({ Paths: ['/', '/orders/'] }))).rejects.toThrow(
      'smoke: GET /orders/ answered 500 (expected 200): "Traceback (most recent call last): File \\"views.py\\", line 3 ProgrammingError: relation \\"orders\\" does not exist"',
    );
    expect(stored()).toMatchObject({ verdict: 'fail' });
  });

  it('a release the preview rule does not match answers the listener default, 404', async () => {
    await expect(onEvent(event({ Release: 'r3', Paths: ['/'] }))).rejects.toThrow('smoke: GET / answered 404 (expected 200): "not found"');
  });

  it("sends the release's preview key, read with decryption, and keeps it out of the record and the log", async () => {
    ssm.on(GetParameterCommand, { Name: '/greenlight/shop/staging/preview/r4', WithDecryption: true }).resolves({ Parameter: { Value: KEY } });
    const out = await onEvent(event({ Release: 'r4', KeyParameter: '/greenlight/shop/staging/preview/r4' }));
    expect(out.Data).toEqual({ Verdict: 'pass', Message: 'smoke: 2/2 paths answered 200 (/, /health/)' });
    expect(seen.map((s) => s.key)).toEqual([KEY, KEY]);
    expect(JSON.stringify(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input))).not.toContain(KEY);
    expect(JSON.stringify(out)).not.toContain(KEY);
    expect(lines.join('\n')).not.toContain(KEY);
  });

  it('without the key, a keyed release answers 404 like its rule; a missing key fails before any request', async () => {
    await expect(onEvent(event({ Release: 'r4', Paths: ['/'] }))).rejects.toThrow('smoke: GET / answered 404 (expected 200): "not found"');
    seen.length = 0;
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'Parameter not found', $metadata: {} }));
    await expect(onEvent(event({ Release: 'r4', KeyParameter: '/greenlight/shop/staging/preview/r4' }))).rejects.toThrow(
      "smoke: the preview key /greenlight/shop/staging/preview/r4 does not exist; the release's PreviewKey resource writes it",
    );
    expect(seen).toHaveLength(0);
  });

  it('names a path that did not answer in time, after asking twice', async () => {
    await expect(onEvent(event({ Paths: ['/slow/'], TimeoutSeconds: '1' }))).rejects.toThrow('smoke: GET /slow/ failed: no answer within 1s');
    expect(seen.filter((s) => s.path === '/slow/')).toHaveLength(2);
  });

  it('names a load balancer that refuses the connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(onEvent(event({ BaseUrl: `http://127.0.0.1:${port}`, Paths: ['/'] }))).rejects.toThrow(/smoke: GET \/ failed: connect ECONNREFUSED/);
  });

  it('Update and Delete touch nothing', async () => {
    for (const type of ['Update', 'Delete']) {
      expect(await onEvent(event({}, type))).toEqual({ PhysicalResourceId: '/greenlight/shop/staging/smoke/r2' });
    }
    expect(seen).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('a bad property names itself and its value', async () => {
    await expect(onEvent(event({ Paths: ['orders/'] }))).rejects.toThrow('smoke check property Paths: ["orders/"] must be a list of absolute paths');
    await expect(onEvent(event({ BaseUrl: 'lb.example.com' }))).rejects.toThrow('smoke check property BaseUrl: "lb.example.com" must be http(s)://host:port with no path');
    await expect(onEvent(event({ TimeoutSeconds: '0.5' }))).rejects.toThrow('smoke check property TimeoutSeconds: "0.5" must be a whole number of at least 1');
  });
});
