// The real CLI process: its exit codes, and `watch` against a stand-in SSM endpoint on loopback,
// reached through the SDK's standard AWS_ENDPOINT_URL. cdk-synth.test.ts runs a deploy through the real cdk.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, errorLines } from '../helpers/cli';

describe('greenlight as a process', () => {
  // Argument mistakes are tested in-process (arguments.test.ts); these hold the real entry point to the same exit codes.
  it('--help exits 0 and prints the usage', async () => {
    const run = await cli(['status', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: greenlight status [options]');
  });

  it('a user mistake exits 2 with one line and no stack trace', async () => {
    const run = await cli(['deploy', '--release', 'r1']);
    expect(run.code).toBe(2);
    expect(errorLines(run)).toEqual(['greenlight: --env <name> is required: the environment in cdk.json, e.g. --env staging']);
    expect(run.stdout).toBe('');
  });

  it('status without credentials: one line with the cause, and no SDK warning about the Node version before it', async () => {
    const run = await cli(['status', '--env', 'staging'], { AWS_REGION: 'eu-west-1' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).not.toMatch(/NodeVersionSupportWarning|node >=22/);
    expect(errorLines(run)).toEqual([expect.stringMatching(/^greenlight: .*credentials/i)]);
  });

  describe('watch against a loopback SSM endpoint', () => {
    let server: Server;
    let endpoint: string;
    const names: string[] = [];
    const progress = (verdict: string, polls: number, message: string) =>
      JSON.stringify({
        runId: 'req-1',
        release: '2026.11.22-3f9c2ab',
        groupName: 'g',
        expectedInstances: 2,
        timeoutMs: 120_000,
        observed: { instances: 2, inService: 2, targetGroups: 1, activities: 0 },
        progress: {
          startedAt: Date.now() - 120_000,
          lastPollAt: Date.now(),
          polls,
          consecutiveHealthy: 0,
          seenInstances: ['i-1', 'i-2'],
          replacedInstances: [],
          lastReasons: {},
          lastMessage: message,
          verdict,
        },
      });
    const answers: Array<string | undefined> = [];

    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (chunk) => (body += chunk));
        req.on('end', () => {
          expect(req.headers['x-amz-target']).toBe('AmazonSSM.GetParameter');
          const { Name } = JSON.parse(body) as { Name: string };
          names.push(Name);
          const value = answers.length > 1 ? answers.shift() : answers[0];
          res.setHeader('content-type', 'application/x-amz-json-1.1');
          if (value === undefined) {
            res.statusCode = 400;
            res.end(JSON.stringify({ __type: 'ParameterNotFound', message: 'not found' }));
            return;
          }
          res.end(JSON.stringify({ Parameter: { Name, Value: value, Type: 'String', Version: 1 } }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('follows the gate to its failure and exits 1', async () => {
      answers.splice(0, answers.length, undefined, progress('wait', 3, '0/2 healthy; i-1: Target.ResponseCodeMismatch [301]'), progress('fail', 9, 'Gate timed out after 2m with 0/2 healthy.'));
      const run = await cli(['watch', '--env', 'staging', '--release', '2026.11.22-3f9c2ab', '--interval', '1', '--timeout', '30'], {
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'example',
      });
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(/NodeVersionSupportWarning|node >=22/);
      expect(run.stdout.trim().split('\n')).toEqual([
        'gate: waiting for the gate to start (/greenlight/greenlight-demo/staging/gate/2026.11.22-3f9c2ab)',
        'gate: [poll 3, 2m] 0/2 healthy; i-1: Target.ResponseCodeMismatch [301]',
        'gate: FAIL: Gate timed out after 2m with 0/2 healthy.',
      ]);
      expect(new Set(names)).toEqual(new Set(['/greenlight/greenlight-demo/staging/gate/2026.11.22-3f9c2ab']));
    });
  });
});
