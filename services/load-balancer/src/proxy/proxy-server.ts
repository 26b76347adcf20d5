// The proxy port: a plain node:http server (no router: every path belongs to the
// backends, and routing machinery would only cost time on the hot path) that streams
// each request to the backend the core picks, through that backend's undici Pool.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@headroom/shared';
import type { Dispatcher } from 'undici';
import type { Affinity, BalancerCore, Outcome, Pick } from '../balancing/balancer-core.js';
import type { TrafficStats } from '../stats/traffic-stats.js';
import type { LbMetrics } from '../telemetry/metrics.js';
import { downstreamResponseHeaders, readCookie, upstreamRequestHeaders } from './forward-headers.js';
import { classifyFailure, type FailureKind, mayRetry } from './retry-decision.js';
import type { UpstreamPools } from './upstream-pools.js';

export interface ProxyDeps {
  core: BalancerCore;
  pools: UpstreamPools;
  stats: TrafficStats;
  metrics: LbMetrics;
  logger: Logger;
  retries: number;
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const error = status === 503 ? 'Service Unavailable' : status === 504 ? 'Gateway Timeout' : 'Bad Gateway';
  res.writeHead(status, JSON_TYPE);
  res.end(JSON.stringify({ statusCode: status, code, error, message }));
}

function outcomeOf(kind: FailureKind): Outcome {
  return kind === 'headers-timeout' || kind === 'body-timeout' || kind === 'connect-timeout'
    ? 'timeout'
    : 'connect-error';
}

export class ProxyHandler {
  private inFlightRequests = 0;
  private drainedWaiters: Array<() => void> = [];

  constructor(readonly deps: ProxyDeps) {}

  /** Requests the proxy is handling right now (for graceful shutdown). */
  get active(): number {
    return this.inFlightRequests;
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.inFlightRequests === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainedWaiters.push(resolve));
  }

  private affinityOf(req: IncomingMessage): Affinity | undefined {
    const sticky = this.deps.core.sticky;
    if (sticky.kind === 'cookie') return { cookie: readCookie(req.headers.cookie, sticky.cookie) };
    if (sticky.kind === 'header') {
      const v = req.headers[sticky.header];
      return { header: Array.isArray(v) ? v[0] : v };
    }
    return undefined;
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.inFlightRequests++;
    res.once('close', () => {
      this.inFlightRequests--;
      if (this.inFlightRequests === 0) for (const w of this.drainedWaiters.splice(0)) w();
    });
    this.attempt(req, res, 0, -1, this.affinityOf(req));
  };

  attempt(
    req: IncomingMessage,
    res: ServerResponse,
    attempt: number,
    exclude: number,
    affinity: Affinity | undefined,
  ): void {
    const { core, pools, stats, metrics } = this.deps;
    const pick = core.pick(Date.now(), affinity, exclude < 0 ? undefined : [exclude]);
    if (!pick) {
      stats.recordUnrouted();
      metrics.upstreamErrors.inc({ reason: 'no-backend' });
      sendError(res, 503, 'LB_ERR_NO_BACKEND', 'no healthy backend available');
      return;
    }
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    const ahead = core.begin(pick.slot, Date.now());
    const exchange = new Exchange(this, req, res, pick, attempt, affinity, hasBody, ahead);
    pools.get(pick.id, pick.url).dispatch(
      {
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: upstreamRequestHeaders(req.headers, {
          remoteAddress: req.socket.remoteAddress,
          encrypted: (req.socket as { encrypted?: boolean }).encrypted === true,
        }),
        body: hasBody ? req : null,
      },
      exchange,
    );
  }

  /** WebSocket (and any Upgrade) requests: a raw TCP tunnel to the picked backend. */
  readonly upgrade = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const { core } = this.deps;
    const pick = core.pick(Date.now(), this.affinityOf(req));
    if (!pick) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const target = new URL(pick.url);
    core.begin(pick.slot, Date.now());
    const started = performance.now();
    let done = false;
    const finish = (outcome: Outcome) => {
      if (done) return;
      done = true;
      core.end(pick.slot, Date.now(), performance.now() - started, outcome);
    };
    const upstream = connect(Number(target.port || 80), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      const raw = req.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
      lines.push(`x-forwarded-for: ${req.socket.remoteAddress ?? 'unknown'}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream).pipe(socket);
    });
    upstream.on('error', () => {
      finish('connect-error');
      if (socket.writable)
        socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    });
    socket.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      finish('success');
      socket.destroy();
    });
    socket.on('close', () => upstream.destroy());
  };
}

function addAffinityCookie(
  headers: Record<string, number | string | string[] | undefined>,
  sticky: BalancerCore['sticky'],
  pick: Pick,
): void {
  if (sticky.kind !== 'cookie') return;
  const cookie = `${sticky.cookie}=${pick.setCookie}; Path=/; HttpOnly; SameSite=Lax`;
  const prior = headers['set-cookie'];
  headers['set-cookie'] =
    prior === undefined ? cookie : Array.isArray(prior) ? [...prior, cookie] : [String(prior), cookie];
}

export function createProxyServer(handler: ProxyHandler): Server {
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, handler.handle);
  server.on('upgrade', handler.upgrade);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // malformed requests (bad framing, CL+TE smuggling, oversized headers) end here
    if (!socket.writable) return;
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
  });
  return server;
}

/**
 * One upstream exchange, driven by undici's dispatch handler callbacks: response bytes go
 * straight to the client socket with backpressure (pause/resume), with no intermediate
 * stream, pipeline or AbortController per request (they cost more than the proxying).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private readonly started = performance.now();
  private latencyMs = 0;
  private status = 0;
  private settled = false;
  private clientGone = false;

  constructor(
    private readonly proxy: ProxyHandler,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly pick: Pick,
    private readonly attemptNo: number,
    private readonly affinity: Affinity | undefined,
    private readonly hasBody: boolean,
    /** Requests already in flight on the backend at dispatch (the core's service-time estimate). */
    private readonly ahead: number,
  ) {
    res.once('close', this.onClientClose);
  }

  private readonly onClientClose = (): void => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.controller?.abort(new Error('client closed the connection'));
    this.settle('aborted');
  };

  private readonly onDrain = (): void => {
    this.controller?.resume();
  };

  private settle(outcome: Outcome): void {
    if (this.settled) return;
    this.settled = true;
    const { core, stats, metrics } = this.proxy.deps;
    core.end(this.pick.slot, Date.now(), this.latencyMs || performance.now() - this.started, outcome, this.ahead);
    if (outcome === 'aborted') return;
    stats.record(this.pick.id, this.latencyMs, this.status >= 500);
    metrics.requests.inc({
      backend: this.pick.id,
      method: this.req.method ?? 'GET',
      status: String(this.status),
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: informational, the real response follows
    this.status = statusCode;
    this.latencyMs = performance.now() - this.started;
    this.proxy.deps.metrics.duration.observe({ backend: this.pick.id }, this.latencyMs / 1000);
    const out = downstreamResponseHeaders(headers);
    if (this.pick.setCookie !== undefined) addAffinityCookie(out, this.proxy.deps.core.sticky, this.pick);
    this.res.writeHead(statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', this.onDrain);
    }
  }

  onResponseEnd(): void {
    this.res.off('close', this.onClientClose);
    this.res.end();
    this.settle(this.status >= 500 ? 'http-5xx' : 'success');
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.settled) return; // the client left first; nothing to answer
    const { metrics, logger, retries } = this.proxy.deps;
    const kind = classifyFailure(err);
    const latency = performance.now() - this.started;
    this.res.off('close', this.onClientClose);
    metrics.upstreamErrors.inc({ reason: kind });
    if (
      !this.res.headersSent &&
      mayRetry(this.req.method ?? 'GET', this.hasBody, kind, this.attemptNo, retries)
    ) {
      this.status = 502;
      this.latencyMs = latency;
      this.settle(outcomeOf(kind));
      metrics.retries.inc();
      this.proxy.deps.stats.totalRetries++;
      this.proxy.attempt(this.req, this.res, this.attemptNo + 1, this.pick.slot, this.affinity);
      return;
    }
    const timeout = kind === 'headers-timeout' || kind === 'body-timeout';
    const midBody = this.res.headersSent;
    if (!midBody) this.status = timeout ? 504 : 502;
    this.latencyMs = latency;
    this.settle(midBody ? 'connect-error' : outcomeOf(kind));
    logger.debug({ backend: this.pick.id, err: err.message, kind }, 'upstream failed');
    if (timeout)
      sendError(this.res, 504, 'LB_ERR_UPSTREAM_TIMEOUT', `backend ${this.pick.id} did not answer in time`);
    else sendError(this.res, 502, 'LB_ERR_UPSTREAM', `backend ${this.pick.id} failed: ${kind}`);
  }
}
