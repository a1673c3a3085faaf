// The requests doctor makes as a load balancer and a person's browser would, and a database that
// never answers: the network side of its checks, each one call that never throws.
import * as http from 'node:http';
import * as net from 'node:net';
import { bodyExcerpt } from '../smoke/evaluate';
import type { HealthAnswer, PageAnswer } from './checks';

/** One GET, as a load balancer's health check: Host is the instance IP (or `hostHeader`), no X-Forwarded-Proto. */
export function healthCheck(address: string, port: number, urlPath: string, timeoutMs: number, hostHeader = address): Promise<HealthAnswer> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = http.get({ host: address, port, path: urlPath, headers: { host: hostHeader }, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          ...(res.headers.location ? { location: res.headers.location } : {}),
          ...(body ? { excerpt: bodyExcerpt(body) } : {}),
          ms: Date.now() - started,
        }),
      );
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? err.message, ms: Date.now() - started }));
  });
}

/** Never a name the app allows: the health path asked with it must be refused. */
export const FOREIGN_HOST = 'greenlight-doctor.invalid';
const MAX_REDIRECTS = 5;

/**
 * A page as a person's browser gets it through the load balancer over HTTPS (X-Forwarded-Proto:
 * https, so nginx's TLS redirect lets it through), following redirects on the same site.
 */
export async function page(address: string, port: number, urlPath: string, hostHeader: string, timeoutMs: number): Promise<PageAnswer> {
  const chain = [urlPath];
  for (;;) {
    const answer = await new Promise<HealthAnswer>((resolve) => {
      const started = Date.now();
      const headers = { host: hostHeader, 'x-forwarded-proto': 'https' };
      const req = http.get({ host: address, port, path: chain[chain.length - 1], headers, agent: false, timeout: timeoutMs }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}), excerpt: bodyExcerpt(body), ms: Date.now() - started }));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? err.message, ms: Date.now() - started }));
    });
    const redirect = typeof answer.status === 'number' && answer.status >= 300 && answer.status < 400 && answer.location ? new URL(answer.location, `https://${hostHeader}${chain[chain.length - 1]}`) : undefined;
    if (!redirect || redirect.host !== hostHeader || chain.length > MAX_REDIRECTS) {
      return { path: urlPath, chain, status: answer.status, ...(answer.excerpt ? { excerpt: answer.excerpt } : {}) };
    }
    chain.push(`${redirect.pathname}${redirect.search}`);
  }
}

/** A TCP server that accepts connections and never answers: a database that hangs. */
export async function unansweringDatabase(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

