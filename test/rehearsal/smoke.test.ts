// The rehearsal's smoke checks against a local stand-in for the load balancer: each path is sent with
// the preview header naming the release, and the shared verdict judges the answers.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSmoke, type SmokeRunProps } from '../../lib/rehearsal/smoke';

let server: http.Server;
let port: number;
const seen: Array<{ path?: string; host?: string; release?: string | string[] }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ path: req.url, host: req.headers.host, release: req.headers['x-greenlight-release'] });
    if (req.url === '/slow/') return; // never answers: the request times out
    res.setHeader('X-Greenlight-Served-By', 'release-r2/green-1');
    if (req.url === '/broken/') {
      res.statusCode = 500;
      res.end('<h1>Server Error (500)</h1>\n\n  OperationalError: no such table: orders');
      return;
    }
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const props = (paths: string[], patch: Partial<SmokeRunProps> = {}): SmokeRunProps => ({
  host: '127.0.0.1',
  port,
  hostHeader: 'localhost',
  preview: { header: 'X-Greenlight-Release', release: 'r2' },
  paths,
  expectedStatuses: '200',
  timeoutMs: 2_000,
  ...patch,
});

describe('runSmoke', () => {
  it('requests every path with the preview header and passes when each answers as expected', async () => {
    seen.length = 0;
    const run = await runSmoke(props(['/', '/orders/']));
    expect(seen).toEqual([
      { path: '/', host: 'localhost', release: 'r2' },
      { path: '/orders/', host: 'localhost', release: 'r2' },
    ]);
    expect(run.verdict).toMatchObject({ verdict: 'pass', message: 'smoke: 2/2 paths answered 200 (/, /orders/)' });
    expect(run.requests.map((r) => r.servedBy)).toEqual(['release-r2/green-1', 'release-r2/green-1']);
  });

  it('fails naming the status and the start of the body', async () => {
    const run = await runSmoke(props(['/', '/broken/']));
    expect(run.verdict.verdict).toBe('fail');
    expect(run.verdict.message).toBe('smoke: GET /broken/ answered 500 (expected 200): "Server Error (500) OperationalError: no such table: orders"');
  });

  it('fails on a path that does not answer within the timeout', async () => {
    const run = await runSmoke(props(['/slow/'], { timeoutMs: 200 }));
    expect(run.verdict.message).toBe('smoke: GET /slow/ failed: timed out after 200 ms');
  });
});
