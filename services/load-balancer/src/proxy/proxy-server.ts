// The proxy port: a plain node:http server (no router: every path belongs to the
// backends, and routing machinery would only cost time on the hot path) that streams
// each request to the backend the core picks, through that backend's undici Pool.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream';
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

  constructor(private readonly deps: ProxyDeps) {}

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

  private attempt(
    req: IncomingMessage,
    res: ServerResponse,
    attempt: number,
    exclude: number,
    affinity: Affinity | undefined,
  ): void {
    const { core, pools, stats, metrics } = this.deps;
    const started = performance.now();
    const pick = core.pick(Date.now(), affinity, exclude);
    if (!pick) {
      stats.recordUnrouted();
      metrics.upstreamErrors.inc({ reason: 'no-backend' });
      sendError(res, 503, 'LB_ERR_NO_BACKEND', 'no healthy backend available');
      return;
    }
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    core.begin(pick.slot, Date.now());
    const pool = pools.get(pick.id, pick.url);
    const abort = new AbortController();
    let settled = false;
    const settle = (outcome: Outcome, status: number, latencyMs: number) => {
      if (settled) return;
      settled = true;
      core.end(pick.slot, Date.now(), latencyMs, outcome);
      if (outcome !== 'aborted') {
        stats.record(pick.id, latencyMs, status >= 500);
        metrics.requests.inc({ backend: pick.id, method: req.method ?? 'GET', status: String(status) });
      }
    };
    const onClientGone = () => {
      if (!res.writableFinished) {
        abort.abort();
        settle('aborted', 499, performance.now() - started);
      }
    };
    res.once('close', onClientGone);

    pool.request(
      {
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: upstreamRequestHeaders(req.headers, {
          remoteAddress: req.socket.remoteAddress,
          encrypted: (req.socket as { encrypted?: boolean }).encrypted === true,
        }),
        body: hasBody ? req : null,
        signal: abort.signal,
      },
      (err, data) => {
        const latencyMs = performance.now() - started;
        if (err) {
          if (settled) return; // the client left; nothing to answer
          const kind = classifyFailure(err);
          res.off('close', onClientGone);
          if (
            !res.headersSent &&
            mayRetry(req.method ?? 'GET', hasBody, kind, attempt, this.deps.retries) &&
            !abort.signal.aborted
          ) {
            settle(outcomeOf(kind), 502, latencyMs);
            metrics.retries.inc();
            metrics.upstreamErrors.inc({ reason: kind });
            this.attempt(req, res, attempt + 1, pick.slot, affinity);
            return;
          }
          metrics.upstreamErrors.inc({ reason: kind });
          const timeout = kind === 'headers-timeout' || kind === 'body-timeout';
          settle(outcomeOf(kind), timeout ? 504 : 502, latencyMs);
          this.deps.logger.debug({ backend: pick.id, err: (err as Error).message, kind }, 'upstream failed');
          if (timeout)
            sendError(res, 504, 'LB_ERR_UPSTREAM_TIMEOUT', `backend ${pick.id} did not answer in time`);
          else sendError(res, 502, 'LB_ERR_UPSTREAM', `backend ${pick.id} failed: ${kind}`);
          return;
        }
        metrics.duration.observe({ backend: pick.id }, latencyMs / 1000);
        const headers = downstreamResponseHeaders(data.headers);
        if (pick.setCookie !== undefined) addAffinityCookie(headers, core.sticky, pick);
        res.writeHead(data.statusCode, headers);
        pipeline(data.body, res, (pipeErr) => {
          res.off('close', onClientGone);
          if (pipeErr && !res.writableFinished) {
            // the backend broke off mid-body, or the client left: the response is incomplete
            if (!settled) metrics.upstreamErrors.inc({ reason: 'body' });
            settle(settled ? 'aborted' : 'connect-error', data.statusCode, latencyMs);
            res.destroy();
            return;
          }
          settle(data.statusCode >= 500 ? 'http-5xx' : 'success', data.statusCode, latencyMs);
        });
      },
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
