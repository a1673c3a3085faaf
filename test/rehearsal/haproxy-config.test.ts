import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../lib/config/load';
import {
  addServerCommand,
  checkSettingsFrom,
  cutoverCommand,
  enableServerCommands,
  expectStatus,
  previewRules,
  renderHaproxyConfig,
  renderWeightsMap,
  serverId,
  weightCommand,
  type HaproxyConfigProps,
} from '../../lib/rehearsal/haproxy-config';
import { ephemeralPort } from '../../lib/rehearsal/net';
import { cdkContext, minimalEnvironment } from '../helpers/settings';
import { newPreviewKey } from '../../lib/preview/key';

const staging = loadSettings(cdkContext()).environments.staging;

const props = (patch: Partial<HaproxyConfigProps> = {}): HaproxyConfigProps => {
  const check = checkSettingsFrom(staging.healthCheck, 1);
  return {
    frontend: { address: '127.0.0.1', port: 18080 },
    socketPath: '/tmp/rehearsal/admin.sock',
    liveMapPath: '/tmp/rehearsal/live.map',
    liveBackend: 'release-a',
    backends: [
      {
        name: 'release-a',
        check,
        servers: [
          { name: 'blue-1', address: '127.0.1.1', port: 8080 },
          { name: 'blue-2', address: '127.0.1.2', port: 8080 },
        ],
      },
      { name: 'release-b', check, servers: [] },
    ],
    ...patch,
  };
};

describe('checkSettingsFrom', () => {
  it("maps the target group's settings onto HAProxy's: inter, timeout, rise, fall, matcher", () => {
    expect(checkSettingsFrom(staging.healthCheck, 1)).toEqual({
      path: '/health/',
      intervalMs: 15_000,
      timeoutMs: 5_000,
      rise: 2,
      fall: 10,
      matcher: '200',
    });
  });

  it('scales durations but never thresholds', () => {
    expect(checkSettingsFrom(staging.healthCheck, 0.05)).toMatchObject({ intervalMs: 750, timeoutMs: 250, rise: 2, fall: 10 });
  });

  it('follows an environment with other health-check settings', () => {
    const env = loadSettings({
      app: 'shop',
      environments: {
        prod: {
          ...minimalEnvironment(),
          healthCheck: { path: '/ready/', interval: 30, timeout: 10, healthyThreshold: 3, unhealthyThreshold: 4, matcher: '200-299' },
        },
      },
    }).environments.prod;
    expect(checkSettingsFrom(env.healthCheck, 1)).toEqual({ path: '/ready/', intervalMs: 30_000, timeoutMs: 10_000, rise: 3, fall: 4, matcher: '200-299' });
  });
});

describe('renderHaproxyConfig', () => {
  const config = renderHaproxyConfig(props());

  it('checks each release backend the way the target group does', () => {
    expect(config).toContain('  option httpchk\n');
    expect(config).toContain('  http-check send meth GET uri /health/ ver HTTP/1.1 hdr Host "127.0.1.%[srv_id]"\n');
    expect(config).toContain('  http-check expect status 200\n');
    expect(config).toContain('  timeout check 5000\n');
    expect(config).toContain('  server blue-1 127.0.1.1:8080 id 1 check inter 15000 fastinter 15000 downinter 15000 rise 2 fall 10\n');
    expect(config).toContain('  server blue-2 127.0.1.2:8080 id 2 check');
  });

  it('routes the listener through the live map, with the admin socket the gate polls', () => {
    expect(config).toContain('  stats socket /tmp/rehearsal/admin.sock mode 600 level admin\n');
    expect(config).toContain('  bind 127.0.0.1:18080\n');
    expect(config).toContain('  use_backend %[str(live),map(/tmp/rehearsal/live.map,release-a)]\n');
    expect(config).toContain('  http-request set-header X-Forwarded-Proto http\n');
    expect(config).toMatch(/^backend release-b$/m);
  });

  it('passes on an HTTPS listener as X-Forwarded-Proto https', () => {
    expect(renderHaproxyConfig(props({ listenerProtocol: 'HTTPS' }))).toContain('  http-request set-header X-Forwarded-Proto https\n');
  });

  it.each([false, true])('is a configuration HAProxy accepts (traffic steps: %s)', (steps) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-haproxy-'));
    try {
      const file = path.join(dir, 'haproxy.cfg');
      fs.writeFileSync(path.join(dir, 'live.map'), 'live release-a\n');
      fs.writeFileSync(path.join(dir, 'weights.map'), renderWeightsMap(10));
      const canary = steps ? { canary: { backend: 'release-b', weightsMapPath: path.join(dir, 'weights.map') } } : {};
      fs.writeFileSync(file, renderHaproxyConfig(props({ socketPath: path.join(dir, 'admin.sock'), liveMapPath: path.join(dir, 'live.map'), ...canary })));
      const run = spawnSync('haproxy', ['-c', '-f', file], { encoding: 'utf8' });
      expect(run.stderr + run.stdout).toContain('Configuration file is valid');
      expect(run.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with traffic steps, weights the new backend ahead of the live map and logs each request with its backend and server time', () => {
    const config = renderHaproxyConfig(props({ canary: { backend: 'release-b', weightsMapPath: '/tmp/rehearsal/weights.map' } }));
    const frontend = config.slice(config.indexOf('frontend listener'), config.indexOf('\nbackend '));
    const lines = frontend.split('\n').map((l) => l.trim());
    const weighted = lines.indexOf('use_backend release-b if { rand(100),sub(txn.weight) -m int lt 0 }');
    expect(weighted).toBeGreaterThan(lines.indexOf('http-request set-var(txn.weight) str(weight),map_str_int(/tmp/rehearsal/weights.map,0)'));
    expect(weighted).toBeLessThan(lines.findIndex((l) => l.startsWith('use_backend %[str(live)')));
    expect(lines).toContain('log-format "greenlight-request %Ts%ms %b %ST %Tr"');
    expect(config).toContain('  log stdout format raw local0\n');
    // Without steps, nothing is weighted or logged.
    expect(renderHaproxyConfig(props())).not.toMatch(/rand\(100\)|log-format|log stdout/);
    expect(renderWeightsMap(10)).toBe('weight 10\n');
    expect(weightCommand('/tmp/w.map', 0)).toBe('set map /tmp/w.map weight 0');
  });

  it('rejects what HAProxy could not express', () => {
    expect(() => renderHaproxyConfig(props({ liveBackend: 'release-c' }))).toThrow('liveBackend release-c is not one of the backends: release-a, release-b');
    const check = { ...checkSettingsFrom(staging.healthCheck, 1), path: '/health check/' };
    expect(() => renderHaproxyConfig(props({ backends: [{ name: 'release-a', check, servers: [] }] }))).toThrow(
      'healthCheck.path "/health check/" cannot go into an HAProxy check line',
    );
    const mixed = [
      { name: 'a', address: '127.0.1.1', port: 80 },
      { name: 'b', address: '127.0.2.2', port: 80 },
    ];
    expect(() => renderHaproxyConfig(props({ backends: [{ name: 'release-a', check: checkSettingsFrom(staging.healthCheck, 1), servers: mixed }] }))).toThrow(
      'backend release-a: servers span 127.0.1., 127.0.2.; they must share one /24',
    );
  });
});

const KEY = newPreviewKey();

describe('the preview route', () => {
  const withPreview = props({
    preview: { header: 'X-Greenlight-Release' },
    backends: props().backends.map((b) => ({ ...b, release: b.name.replace(/^release-/, '') })),
  });

  it('forwards a request naming a release in the header to its backend, ahead of the live map', () => {
    const config = renderHaproxyConfig(withPreview);
    const rules = [
      '  use_backend release-a if { req.hdr(X-Greenlight-Release) -m str a }',
      '  use_backend release-b if { req.hdr(X-Greenlight-Release) -m str b }',
      '  use_backend %[str(live),map(/tmp/rehearsal/live.map,release-a)]',
    ];
    expect(config).toContain(`${rules.join('\n')}\n`);
  });

  it('follows the configured header name, and routes only backends that name their release', () => {
    const backends = [{ ...withPreview.backends[0], release: undefined }, withPreview.backends[1]];
    expect(previewRules('X-Preview', backends)).toEqual(['  use_backend release-b if { req.hdr(X-Preview) -m str b }']);
    expect(renderHaproxyConfig(props())).not.toContain('req.hdr');
  });

  it('refuses a header name HAProxy would read as something else', () => {
    expect(() => previewRules("X-It's", withPreview.backends)).toThrow(
      `preview.header "X-It's": the rehearsal's HAProxy takes letters, digits and !$%&*+.^_|~- only`,
    );
    expect(() => previewRules('X#Release', withPreview.backends)).toThrow('preview.header "X#Release"');
  });

  it('requires a keyed backend\'s key beside the header, and refuses a key it did not make', () => {
    const key = newPreviewKey();
    const backends = [withPreview.backends[0], { ...withPreview.backends[1], previewKey: key }];
    expect(previewRules('X-Greenlight-Release', backends)).toEqual([
      '  use_backend release-a if { req.hdr(X-Greenlight-Release) -m str a }',
      `  use_backend release-b if { req.hdr(X-Greenlight-Release) -m str b } { req.hdr(X-Greenlight-Preview-Key) -m str ${key} }`,
    ]);
    expect(() => previewRules('X-Greenlight-Release', [{ ...withPreview.backends[1], previewKey: 'b }' }])).toThrow(
      'backend release-b: its preview key is not one newPreviewKey makes',
    );
  });

  it('routes by the header and the key in a real HAProxy: the named release with its key, else the live one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenlight-preview-'));
    const servers: http.Server[] = [];
    let haproxy: ReturnType<typeof spawn> | undefined;
    try {
      // One stand-in instance per release, answering with its own name.
      const ports: number[] = [];
      for (const [i, name] of ['blue-1', 'green-1'].entries()) {
        const server = http.createServer((_req, res) => res.end(name));
        servers.push(server);
        await new Promise<void>((resolve) => server.listen(0, `127.0.1.${i + 1}`, resolve));
        ports.push((server.address() as AddressInfo).port);
      }
      const frontendPort = await ephemeralPort();
      const liveMapPath = path.join(dir, 'live.map');
      fs.writeFileSync(liveMapPath, 'live release-a\n');
      const check = checkSettingsFrom(staging.healthCheck, 1);
      const config = renderHaproxyConfig({
        frontend: { address: '127.0.0.1', port: frontendPort },
        socketPath: path.join(dir, 'admin.sock'),
        liveMapPath,
        liveBackend: 'release-a',
        preview: { header: 'X-Greenlight-Release' },
        backends: [
          { name: 'release-a', release: 'r1', check, servers: [{ name: 'blue-1', address: '127.0.1.1', port: ports[0] }] },
          { name: 'release-b', release: 'r2', previewKey: KEY, check, servers: [{ name: 'green-1', address: '127.0.1.2', port: ports[1] }] },
        ],
      });
      fs.writeFileSync(path.join(dir, 'haproxy.cfg'), config);
      haproxy = spawn('haproxy', ['-f', path.join(dir, 'haproxy.cfg'), '-db'], { stdio: 'ignore' });
      const get = (headers: Record<string, string>) =>
        new Promise<string>((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port: frontendPort, path: '/', headers, agent: false }, (res) => {
              let body = '';
              res.on('data', (c) => (body += c));
              res.on('end', () => resolve(body));
            })
            .on('error', reject);
        });
      // Condition wait: HAProxy is up once it answers through the listener.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const answer = await get({}).catch(() => undefined);
        if (answer !== undefined) break;
        if (Date.now() > deadline) throw new Error('HAProxy did not answer within 10 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await get({})).toBe('blue-1');
      // No key, no preview: the release id alone reaches the live release only.
      expect(await get({ 'X-Greenlight-Release': 'r2' })).toBe('blue-1');
      expect(await get({ 'X-Greenlight-Release': 'r2', 'X-Greenlight-Preview-Key': newPreviewKey() })).toBe('blue-1');
      expect(await get({ 'X-Greenlight-Release': 'r2', 'X-Greenlight-Preview-Key': KEY })).toBe('green-1');
      expect(await get({ 'x-greenlight-release': 'r2', 'x-greenlight-preview-key': KEY })).toBe('green-1');
      expect(await get({ 'X-Greenlight-Release': 'r1' })).toBe('blue-1');
      expect(await get({ 'X-Greenlight-Release': 'r3' })).toBe('blue-1');
      expect(await get({ 'X-Greenlight-Release': 'r2x' })).toBe('blue-1');
    } finally {
      if (haproxy && haproxy.exitCode === null) {
        const exited = new Promise((resolve) => haproxy?.once('exit', resolve));
        haproxy.kill('SIGTERM');
        await exited;
      }
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});

describe('matcher and server ids', () => {
  it('passes lists and ranges to http-check expect status', () => {
    expect(expectStatus('200')).toBe('200');
    expect(expectStatus('200,202')).toBe('200,202');
    expect(expectStatus('200-299')).toBe('200-299');
    expect(() => expectStatus('2xx')).toThrow('healthCheck.matcher: "2xx" is not "200", "200,202" or "200-299"');
  });

  it("uses the address's last octet as the server id, which builds the check's Host", () => {
    expect(serverId({ name: 'green-1', address: '127.0.1.3', port: 80 })).toBe(3);
    expect(() => serverId({ name: 'x', address: '10.0.0.5', port: 80 })).toThrow('server x: address 10.0.0.5 is not a loopback address');
    expect(() => serverId({ name: 'x', address: '127.0.1.0', port: 80 })).toThrow('is not a loopback address 127.x.y.1–254');
  });
});

describe('runtime API commands', () => {
  const check = checkSettingsFrom(staging.healthCheck, 0.1);

  it('registers a new instance with the full check options (dynamic servers ignore default-server)', () => {
    expect(addServerCommand('release-b', { name: 'green-1', address: '127.0.1.3', port: 8080 }, check)).toBe(
      'add server release-b/green-1 127.0.1.3:8080 id 3 check inter 1500 fastinter 1500 downinter 1500 rise 2 fall 10',
    );
  });

  it('enables it down, so that it only serves after `rise` passing checks', () => {
    expect(enableServerCommands('release-b', 'green-1')).toEqual([
      'enable health release-b/green-1',
      'set server release-b/green-1 state drain',
      'set server release-b/green-1 health down',
      'set server release-b/green-1 state ready',
    ]);
  });

  it('cuts over by rewriting the live map entry', () => {
    expect(cutoverCommand('/tmp/live.map', 'release-b')).toBe('set map /tmp/live.map live release-b');
  });
});
