// Loopback plumbing: picking ports nobody uses, and one-off HTTP probes.
import * as http from 'node:http';
import * as net from 'node:net';

/** Whether address:port can be bound right now. */
export function portFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel hands out as free on `address`. */
export function ephemeralPort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: address, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The port every instance listens on, as all instances of a fleet listen on the same port: `preferred`
 * (80, as in the AMI) when it is free on every address, otherwise a free port shared by all of them.
 */
export async function instancePort(addresses: readonly string[], preferred = 80): Promise<number> {
  const freeOnAll = async (port: number) => (await Promise.all(addresses.map((a) => portFree(a, port)))).every(Boolean);
  if (await freeOnAll(preferred)) return preferred;
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await ephemeralPort();
    if (await freeOnAll(port)) return port;
  }
  throw new Error(`no port is free on every instance address (${addresses.join(', ')})`);
}

/** GET once, without keep-alive: the status code and any redirect's Location, or the error code when there was no answer. */
export function probeRedirect(address: string, port: number, path: string, host: string, timeoutMs = 5_000): Promise<{ status: number | string; location?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: address, port, path, headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}) }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? err.message }));
  });
}

/** GET once, without keep-alive: the status code, or the error code when there was no answer. */
export function probe(address: string, port: number, path: string, host: string, timeoutMs = 5_000): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get({ host: address, port, path, headers: { host }, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
