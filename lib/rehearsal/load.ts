// A bounded load generator: a fixed number of concurrent keep-alive HTTP clients, paced to a target
// rate (or, with open arrivals, requests started on a fixed schedule whether or not earlier ones
// were answered), requesting its paths in turn, stopping at a request count or a deadline, whichever
// comes first. Every answer is counted as a load balancer counts it: 2xx and 3xx are served (a redirect is
// the app's answer), 5xx and connection errors are failures, 4xx are reported apart; with latency
// and which backend/server answered.
import * as http from 'node:http';

export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  /** Requested in turn, one request after another. */
  readonly paths: readonly string[];
  /** Host header: the site's public name, which the app allows. */
  readonly hostHeader: string;
  /**
   * How requests start. `clients`: each of `concurrency` clients sends its next request once it has
   * its answer, so slow answers lower the rate (a closed loop). `open`: requests start at the rate
   * whether or not earlier ones were answered, as a site's users arrive, with at most `concurrency`
   * in flight (an arrival past that waits for a free slot).
   * @default 'clients'
   */
  readonly arrivals?: 'clients' | 'open';
  /** Concurrent clients, each with its own keep-alive connection; with open arrivals, the most requests in flight. @default 8 */
  readonly concurrency?: number;
  /** Target requests per second across all clients. @default 100 */
  readonly ratePerSecond?: number;
  /** Hard bound on requests sent. @default 200000 */
  readonly maxRequests?: number;
  /** Hard bound on running time. @default 15 minutes */
  readonly maxDurationMs?: number;
  /** A request without an answer by then is a failure. @default 10 s */
  readonly requestTimeoutMs?: number;
  /** Response header naming who answered. @default x-greenlight-served-by */
  readonly servedByHeader?: string;
}

export interface LoadResult {
  /** The paths requested, in turn. */
  readonly paths: readonly string[];
  readonly sent: number;
  /** Answers that served the request: 2xx and 3xx. */
  readonly served: number;
  /** The 3xx among them, by status code. */
  readonly redirects: Readonly<Record<string, number>>;
  /** 4xx answers by status code: the app's answer to what was asked, not a failure of the release; reported apart. */
  readonly clientErrors: Readonly<Record<string, number>>;
  /** 5xx answers by status code: failures, as the load balancer's 5xx count. */
  readonly serverErrors: Readonly<Record<string, number>>;
  /** Requests with no HTTP answer, by error code (ECONNRESET, ECONNREFUSED, timeout): failures. */
  readonly connectionErrors: Readonly<Record<string, number>>;
  /** 5xx plus connection errors. */
  readonly failed: number;
  /** Distinct seconds (since the start) in which at least one request failed. */
  readonly errorSeconds: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Answers by the backend that served them (`release-A`), from the served-by header. */
  readonly servedBy: Readonly<Record<string, number>>;
  readonly durationMs: number;
  /** The first failure, for the report: when (ms since start) and what. */
  readonly firstFailure?: { readonly atMs: number; readonly what: string };
}

/** The value at quantile q of sorted numbers (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class LoadGenerator {
  private readonly options: Required<LoadOptions>;
  private readonly agent: http.Agent;
  private readonly latencies: number[] = [];
  private readonly redirects: Record<string, number> = {};
  private readonly clientErrors: Record<string, number> = {};
  private readonly serverErrors: Record<string, number> = {};
  private readonly connectionErrors: Record<string, number> = {};
  private readonly servedBy: Record<string, number> = {};
  /** When each backend last answered (epoch ms). */
  private readonly lastAnswer: Record<string, number> = {};
  private readonly failedSeconds = new Set<number>();
  /** When each failed request was sent (epoch ms), to place failures around the cutover and a switch back. */
  private readonly failureTimes: number[] = [];
  /** When each request was sent (epoch ms), to tell what share of a window's requests failed. */
  private readonly sendTimes: number[] = [];
  /** When each failed request got its answer or error (epoch ms), in the same order. */
  private readonly failureAnsweredTimes: number[] = [];
  private firstFailure?: { atMs: number; what: string };
  private sent = 0;
  private served = 0;
  private startedAt = 0;
  private stoppedAt = 0;
  private stopping = false;
  private workers: Promise<void>[] = [];
  /** Open arrivals: the requests in flight, and who waits for one of them to end. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(options: LoadOptions) {
    if (options.paths.length === 0) throw new Error('the load needs at least one path');
    this.options = {
      arrivals: 'clients',
      concurrency: 8,
      ratePerSecond: 100,
      maxRequests: 200_000,
      maxDurationMs: 15 * 60_000,
      requestTimeoutMs: 10_000,
      servedByHeader: 'x-greenlight-served-by',
      ...options,
    };
    this.agent = new http.Agent({ keepAlive: true, maxSockets: this.options.concurrency });
  }

  start(): void {
    this.startedAt = Date.now();
    if (this.options.arrivals === 'open') {
      this.workers = [this.arrive(1000 / this.options.ratePerSecond)];
      return;
    }
    const periodMs = (1000 * this.options.concurrency) / this.options.ratePerSecond;
    this.workers = Array.from({ length: this.options.concurrency }, (_, i) => this.worker(periodMs, (i * periodMs) / this.options.concurrency));
  }

  /** Answers counted so far (for progress lines). */
  get counts(): { sent: number; failed: number } {
    return { sent: this.sent, failed: this.failedCount() };
  }

  /** Stops sending, waits for requests in flight, and returns the totals. */
  async stop(): Promise<LoadResult> {
    this.stopping = true;
    await Promise.all(this.workers);
    this.stoppedAt = this.stoppedAt || Date.now();
    this.agent.destroy();
    return this.result();
  }

  /** Failed requests sent in [fromMs, toMs) (epoch ms): which phase of the release they belong to. */
  failuresSent(fromMs: number, toMs = Number.POSITIVE_INFINITY): { readonly count: number; readonly firstAt?: number } {
    const inRange = this.failureTimes.filter((t) => t >= fromMs && t < toMs);
    const firstAt = inRange.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
    return { count: inRange.length, ...(inRange.length > 0 ? { firstAt } : {}) };
  }

  /** Requests sent in [fromMs, toMs) (epoch ms), failed or not. */
  sentBetween(fromMs: number, toMs = Number.POSITIVE_INFINITY): number {
    return this.sendTimes.filter((t) => t >= fromMs && t < toMs).length;
  }

  /**
   * Failed requests that failed from `answeredFromMs` on and were sent before `sentBeforeMs` (epoch
   * ms): what a change at `answeredFromMs` broke, counting a request it held (a lock a migration
   * took) by when it failed, not when it was sent. `firstAt` is when the first of them failed.
   */
  failuresAnswered(answeredFromMs: number, sentBeforeMs = Number.POSITIVE_INFINITY): { readonly count: number; readonly firstAt?: number } {
    const answered = this.failureAnsweredTimes.filter((t, i) => t >= answeredFromMs && this.failureTimes[i] < sentBeforeMs);
    const firstAt = answered.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
    return { count: answered.length, ...(answered.length > 0 ? { firstAt } : {}) };
  }

  /** Failed requests that failed before `ms` (epoch ms). */
  failuresAnsweredBefore(ms: number): number {
    return this.failureAnsweredTimes.filter((t) => t < ms).length;
  }

  /** When `backend` last answered one of the load's requests (epoch ms), if ever. */
  lastAnsweredBy(backend: string): number | undefined {
    return this.lastAnswer[backend];
  }

  private failedCount(): number {
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    return sum(this.serverErrors) + sum(this.connectionErrors);
  }

  private async worker(periodMs: number, offsetMs: number): Promise<void> {
    await sleep(offsetMs);
    const deadline = this.startedAt + this.options.maxDurationMs;
    while (!this.stopping && this.sent < this.options.maxRequests && Date.now() < deadline) {
      const began = Date.now();
      const path = this.options.paths[this.sent % this.options.paths.length];
      this.sent += 1;
      this.sendTimes.push(began);
      await this.request(path);
      const wait = periodMs - (Date.now() - began);
      if (wait > 0) await sleep(wait);
    }
    if (!this.stopping) this.stoppedAt = Date.now();
  }

  /** Open arrivals: request n starts at startedAt + n × period, late ones at once, at most `concurrency` in flight. */
  private async arrive(periodMs: number): Promise<void> {
    const deadline = this.startedAt + this.options.maxDurationMs;
    while (!this.stopping && this.sent < this.options.maxRequests && Date.now() < deadline) {
      const wait = this.startedAt + this.sent * periodMs - Date.now();
      if (wait > 0) await sleep(wait);
      while (this.inFlight.size >= this.options.concurrency) await Promise.race(this.inFlight);
      if (this.stopping || Date.now() >= deadline) break;
      const path = this.options.paths[this.sent % this.options.paths.length];
      this.sent += 1;
      this.sendTimes.push(Date.now());
      const request = this.request(path).then(() => void this.inFlight.delete(request));
      this.inFlight.add(request);
    }
    if (!this.stopping) this.stoppedAt = Date.now();
    await Promise.all(this.inFlight);
  }

  private failure(at: number, bucket: Record<string, number>, key: string): void {
    bucket[key] = (bucket[key] ?? 0) + 1;
    this.failureTimes.push(at);
    this.failureAnsweredTimes.push(Date.now());
    const atMs = at - this.startedAt;
    this.failedSeconds.add(Math.floor(atMs / 1000));
    this.firstFailure ??= { atMs, what: key };
  }

  private request(path: string): Promise<void> {
    const began = performance.now();
    const at = Date.now();
    return new Promise((done) => {
      let settled = false;
      // An aborted answer can raise errors on both the request and the response: count it once.
      const resolve = () => {
        settled = true;
        done();
      };
      const req = http.request(
        {
          host: this.options.host,
          port: this.options.port,
          path,
          agent: this.agent,
          headers: { host: this.options.hostHeader },
          timeout: this.options.requestTimeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (settled) return;
            this.latencies.push(performance.now() - began);
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 400) this.served += 1;
            if (status >= 300 && status < 400) this.redirects[status] = (this.redirects[status] ?? 0) + 1;
            else if (status >= 400 && status < 500) this.clientErrors[status] = (this.clientErrors[status] ?? 0) + 1;
            else if (status >= 500 || status < 200) this.failure(at, this.serverErrors, String(status));
            const served = res.headers[this.options.servedByHeader];
            if (typeof served === 'string') {
              const backend = served.split('/')[0];
              this.servedBy[backend] = (this.servedBy[backend] ?? 0) + 1;
              this.lastAnswer[backend] = Date.now();
            }
            resolve();
          });
          res.on('error', (err: NodeJS.ErrnoException) => {
            if (settled) return;
            this.failure(at, this.connectionErrors, err.code ?? err.message);
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        this.latencies.push(performance.now() - began);
        this.failure(at, this.connectionErrors, err.code ?? err.message);
        resolve();
      });
      req.end();
    });
  }

  private result(): LoadResult {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      paths: [...this.options.paths],
      sent: this.sent,
      served: this.served,
      redirects: { ...this.redirects },
      clientErrors: { ...this.clientErrors },
      serverErrors: { ...this.serverErrors },
      connectionErrors: { ...this.connectionErrors },
      failed: this.failedCount(),
      errorSeconds: this.failedSeconds.size,
      latencyMs: { p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)), max: round(sorted.at(-1) ?? 0) },
      servedBy: { ...this.servedBy },
      durationMs: (this.stoppedAt || Date.now()) - this.startedAt,
      ...(this.firstFailure ? { firstFailure: { ...this.firstFailure } } : {}),
    };
  }
}
