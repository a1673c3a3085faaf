// systemd's part at first boot, played by the rehearsal: bootstrap.sh calls a stand-in `systemctl`
// script, which asks this loopback server, and the instance starts gunicorn or reloads nginx the way
// the unit would. The script exits with the outcome, so a service that fails to start fails the
// bootstrap's services step as `systemctl enable --now` does with Type=notify.
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What systemctl was asked (`enable --now greenlight-app.service`); resolves with output, or throws. */
export type SystemctlHandler = (args: readonly string[]) => Promise<string>;

export class SystemctlServer {
  private readonly handlers = new Map<string, SystemctlHandler>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<SystemctlServer> {
    let self: SystemctlServer | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const handler = self?.handlers.get(decodeURIComponent((req.url ?? '/').slice(1)));
        if (!handler) return void res.writeHead(404).end(`no rehearsal instance at ${req.url}\n`);
        handler(body.trim().split(/\s+/)).then(
          (out) => res.writeHead(200).end(out),
          (err: Error) => res.writeHead(500).end(`${err.message}\n`),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new SystemctlServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return self;
  }

  /** Writes the stand-in script for one instance and routes its calls to `handler`. */
  standIn(file: string, instance: string, handler: SystemctlHandler): string {
    this.handlers.set(instance, handler);
    fs.writeFileSync(
      file,
      [
        '#!/bin/sh',
        `# systemctl stand-in for rehearsal instance ${instance}: the rehearsal does what systemd would.`,
        `out=$(curl --silent --show-error --max-time 120 --data-binary "$*" --write-out '\\n%{http_code}' '${this.url}/${encodeURIComponent(instance)}') || exit 1`,
        `printf '%s\\n' "$out" | sed '$d'`,
        `[ "$(printf '%s\\n' "$out" | tail -n 1)" = 200 ]`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    return file;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
