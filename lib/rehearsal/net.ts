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

/** The port a run's instances listen on, held against other rehearsals on this machine until `release`. */
export interface HeldPort {
  readonly port: number;
  release(): Promise<void>;
}

/**
 * Holds `port` for this process: an abstract unix socket named after it, which only one process can
 * bind and which the kernel frees when the process dies, so nothing is left behind after a crash.
 */
function holdPort(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ path: `\0greenlight-rehearsal-port-${port}` }, () => {
      // A hold never keeps the rehearsal running.
      server.unref();
      resolve(server);
    });
  });
}

/**
 * The port every instance listens on, as all instances of a fleet listen on the same port: `preferred`
 * (80, as in the AMI) when it is free on every address, otherwise a free port shared by all of them.
 * Rehearsals running at once share the instance addresses, and nginx binds only once first boot gets
 * there, seconds later: the port is held until `release`, so that two runs never both pick it (the
 * second run's nginx would fail to bind, and its instances would answer through the first run's).
 */
export async function instancePort(addresses: readonly string[], preferred = 80): Promise<HeldPort> {
  const freeOnAll = async (port: number) => (await Promise.all(addresses.map((a) => portFree(a, port)))).every(Boolean);
  const take = async (port: number): Promise<HeldPort | undefined> => {
    const held = await holdPort(port);
    if (!held) return undefined;
    if (await freeOnAll(port)) return { port, release: () => new Promise((resolve) => held.close(() => resolve())) };
    held.close();
    return undefined;
  };
  const first = await take(preferred);
  if (first) return first;
  for (let attempt = 0; attempt < 20; attempt++) {
    const next = await take(await ephemeralPort());
    if (next) return next;
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
