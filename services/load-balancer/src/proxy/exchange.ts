// The exchange: streams one upstream response to the client and reports how it went to
// the recorder. Driven by undici's dispatch handler callbacks: response bytes go straight
// to the client socket with backpressure (pause/resume), with no intermediate stream,
// pipeline, AbortController or closure per request (they cost more than the proxying);
// the client's close and drain events reach it through module-level listeners. It never
// decides about retries: the RetryHandler in front of it does, and only forwards what
// the client must see.
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Outcome } from '../balancing/balancer-core.js';
import type { AccessLog } from '../telemetry/access-log.js';
import type { RequestRecorder } from '../telemetry/request-recorder.js';
import { downstreamResponseHeaders } from './forward-headers.js';
import { sendProxyError } from './proxy-error.js';
import type { RequestContext } from './request-context.js';
import { classifyFailure, type FailureKind } from './retry-decision.js';

export function outcomeOf(kind: FailureKind): Outcome {
  return kind === 'headers-timeout' || kind === 'body-timeout' || kind === 'connect-timeout'
    ? 'timeout'
    : 'connect-error';
}

const EXCHANGE = Symbol('headroom.exchange');
type WithExchange = ServerResponse & { [EXCHANGE]?: Exchange };

function onClientDrain(this: WithExchange): void {
  // reading again: no longer a stalled client
  this.socket?.setTimeout(0);
  this.off('timeout', onClientStalled);
  this[EXCHANGE]?.resume();
}

/** A slow reader: reset, not closed. A close would leave the kernel trickling the send buffer's
 * megabytes to it at its pace, the connection open as long as the attack wants. */
function onClientStalled(this: WithExchange): void {
  this.socket?.resetAndDestroy();
}

function onClientClose(this: WithExchange): void {
  const exchange = this[EXCHANGE];
  if (exchange === undefined) return;
  this[EXCHANGE] = undefined;
  exchange.clientClosed();
}

export interface ExchangeDeps {
  recorder: RequestRecorder;
  /** Called once per request when the client connection's response is closed (finished or not). */
  closed: () => void;
  /** A client that reads nothing of the response for this long is cut (slow read; 0: never). */
  clientIdleMs: number;
  /** ACCESS_LOG: one line per answered request; undefined when off. */
  accessLog?: AccessLog | undefined;
}

export class Exchange implements Dispatcher.DispatchHandler {
  constructor(
    private readonly ctx: RequestContext,
    private readonly deps: ExchangeDeps,
  ) {
    (ctx.res as WithExchange)[EXCHANGE] = this;
    ctx.res.once('close', onClientClose);
  }

  /** The current attempt is over in the core (once per attempt). */
  endAttempt(outcome: Outcome): void {
    const ctx = this.ctx;
    if (!ctx.attemptOpen || ctx.pick === undefined) return;
    ctx.attemptOpen = false;
    const end = ctx.headersAt > 0 ? ctx.headersAt : performance.now();
    this.deps.recorder.attemptEnded(ctx.pick, ctx.ahead, Date.now(), end - ctx.attemptStartedAt, outcome);
    // a backend has one request less in flight: its service's oldest waiting request may go now
    ctx.queue?.completed();
  }

  /** The client's request has its outcome: recorded once, whatever the attempts. */
  private finish(status: number, failed: boolean): void {
    const ctx = this.ctx;
    if (ctx.settled) return;
    ctx.settled = true;
    ctx.status = status;
    const end = ctx.headersAt > 0 ? ctx.headersAt : performance.now();
    if (ctx.pick !== undefined)
      this.deps.recorder.requestDone(ctx.pick, ctx.method, status, end - ctx.startedAt, failed);
    const log = this.deps.accessLog;
    if (log !== undefined)
      log.request(
        ctx.service,
        ctx.pick?.id ?? '',
        ctx.method,
        ctx.req.url ?? '/',
        ctx.req.headers.host,
        status,
        performance.now() - ctx.startedAt,
        ctx.bytes,
        ctx.attempt,
      );
  }

  /** The response is closed: finished, or the client left before it was complete. */
  clientClosed(): void {
    this.deps.closed();
    const ctx = this.ctx;
    if (ctx.settled || ctx.res.writableFinished) return;
    ctx.clientGone = true;
    ctx.settled = true;
    ctx.controller?.abort(new Error('client closed the connection'));
    this.endAttempt('aborted');
  }

  resume(): void {
    this.ctx.controller?.resume();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.ctx.controller = controller;
    if (this.ctx.clientGone) controller.abort(new Error('client closed the connection'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    if (statusCode < 200) return; // 1xx: informational, the real response follows
    const ctx = this.ctx;
    ctx.status = statusCode;
    ctx.headersAt = performance.now();
    const pick = ctx.pick!;
    this.deps.recorder.responseStarted(pick, ctx.headersAt - ctx.startedAt);
    const out = downstreamResponseHeaders(headers);
    if (pick.setCookie !== undefined) {
      const sticky = ctx.core.sticky;
      if (sticky.kind === 'cookie') {
        const cookie = `${sticky.cookie}=${pick.setCookie}; Path=/; HttpOnly; SameSite=Lax`;
        const prior = out['set-cookie'];
        out['set-cookie'] =
          prior === undefined ? cookie : Array.isArray(prior) ? [...prior, cookie] : [String(prior), cookie];
      }
    }
    ctx.res.writeHead(statusCode, out);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.ctx.bytes += chunk.length;
    if (!this.ctx.res.write(chunk)) {
      controller.pause();
      // slow read: the socket times out (and is destroyed) unless the client drains it in time
      if (this.deps.clientIdleMs > 0) {
        this.ctx.res.socket?.setTimeout(this.deps.clientIdleMs);
        this.ctx.res.once('timeout', onClientStalled);
      }
      this.ctx.res.once('drain', onClientDrain);
    }
  }

  onResponseEnd(): void {
    const ctx = this.ctx;
    if (ctx.settled) return;
    ctx.res.end();
    this.endAttempt(ctx.status >= 500 ? 'http-5xx' : 'success');
    this.finish(ctx.status, false);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.ctx.settled) return; // the client left first; nothing to answer
    this.fail(classifyFailure(err));
  }

  /**
   * The request failed for the client: a 502/504, or a response cut mid-body (its status
   * is already sent). Also what the RetryHandler calls when a retry finds no other backend:
   * the client then gets the failure of the last attempt (502), not "no healthy backend".
   */
  fail(kind: FailureKind): void {
    const ctx = this.ctx;
    const timeout = kind === 'headers-timeout' || kind === 'body-timeout';
    const midBody = ctx.res.headersSent;
    this.endAttempt(midBody ? 'connect-error' : outcomeOf(kind));
    const pick = ctx.pick!;
    this.deps.recorder.upstreamFailed(pick, kind);
    const status = midBody ? ctx.status : timeout ? 504 : 502;
    this.finish(status, true);
    if (timeout) sendProxyError(ctx.res, 'upstreamTimeout', `backend ${pick.id} did not answer in time`);
    else sendProxyError(ctx.res, 'upstream', `backend ${pick.id} failed: ${kind}`);
  }
}
