// The SDK clients give up on a hung endpoint within their budget, so a gate poll ends as a
// transient error inside the function's time limit instead of as a function timeout.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_BUDGET, createBakeClients, createClients } from '../../lib/aws/clients';
import { alarmStates } from '../../lib/aws/cloudwatch';
import { observeGroup } from '../../lib/aws/observe';

describe('the SDK call budget', () => {
  let server: Server;
  let endpoint: string;
  const sockets = new Set<Socket>();
  let connections = 0;
  const saved = { ...process.env };

  beforeAll(async () => {
    // Accepts connections and never answers.
    server = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    Object.assign(process.env, { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_EC2_METADATA_DISABLED: 'true' });
  });
  afterAll(async () => {
    process.env = saved;
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fits four sequential calls into the function’s 60 s with room for the backoff', () => {
    const worstCall = CALL_BUDGET.maxAttempts * (CALL_BUDGET.connectionTimeoutMs + CALL_BUDGET.requestTimeoutMs);
    expect(4 * worstCall).toBeLessThanOrEqual(45_000);
  });

  it('a hung endpoint becomes a transient error after the request timeout, on every attempt', async () => {
    const clients = createClients('eu-west-1', { connectionTimeoutMs: 200, requestTimeoutMs: 300, maxAttempts: 2 });
    const observation = await observeGroup(clients, 'shop-staging-Fleet-r1', 0);
    expect(observation.transientError).toMatch(/^TimeoutError: .*300 ?ms/);
    expect(observation.instances).toEqual([]);
    expect(connections).toBe(2);
  });

  it("gives the bake's CloudWatch client the same budget", async () => {
    const before = connections;
    const clients = createBakeClients('eu-west-1', { connectionTimeoutMs: 200, requestTimeoutMs: 300, maxAttempts: 2 });
    await expect(alarmStates(clients, ['shop-staging-5xx'])).rejects.toThrow(/300 ?ms/);
    expect(connections - before).toBe(2);
  });
});
