// HAProxy's runtime API over its admin stats socket: one connection per command, as socat would do.
import * as net from 'node:net';
import { backendCounters, serverStatuses, type BackendCounters, type ServerStatus } from './haproxy-state';

export class RuntimeApi {
  constructor(
    private readonly socketPath: string,
    private readonly timeoutMs = 5_000,
  ) {}

  /** Sends one command (or several joined by `;`) and returns HAProxy's whole answer. */
  command(command: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.createConnection(this.socketPath);
      socket.setTimeout(this.timeoutMs, () => socket.destroy(new Error(`runtime API: no answer to "${command}" within ${this.timeoutMs} ms`)));
      socket.on('connect', () => socket.end(`${command}\n`));
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  }

  /** Runs commands in order and fails on any answer that is not an acknowledgement. */
  async run(commands: readonly string[]): Promise<void> {
    for (const command of commands) {
      const answer = (await this.command(command)).trim();
      if (answer !== '' && !/^(New server registered|Server deleted|Done)\.?$/i.test(answer)) {
        throw new Error(`runtime API: "${command}" answered: ${answer}`);
      }
    }
  }

  /** Every server, joined from `show stat` and `show servers state`. */
  async servers(): Promise<ServerStatus[]> {
    const [stat, state] = await Promise.all([this.command('show stat'), this.command('show servers state')]);
    return serverStatuses(stat, state);
  }

  /** One backend's counters and every server, from the same pair of answers. `showStat` is kept for the logs. */
  async backend(name: string): Promise<{ counters: BackendCounters; servers: ServerStatus[]; showStat: string }> {
    const [stat, state] = await Promise.all([this.command('show stat'), this.command('show servers state')]);
    return { counters: backendCounters(stat, name), servers: serverStatuses(stat, state), showStat: stat };
  }
}
