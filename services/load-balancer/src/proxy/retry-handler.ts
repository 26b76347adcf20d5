// The retry wrapper, in the manner of undici's RetryHandler: it is the dispatch handler
// undici sees, forwards every callback to the Exchange, and on an error that may be
// retried (retry-decision.ts) ends the attempt as a retry and dispatches the same request
// again, to a backend this request has not tried. When no such backend is left the
// client gets the last attempt's failure (502), not "no healthy backend" (503): a 503
// says nothing could be tried.
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Pick as Choice } from '../balancing/balancer-core.js';
import type { RequestRecorder } from '../telemetry/request-recorder.js';
import { type Exchange, outcomeOf } from './exchange.js';
import { sendProxyError } from './proxy-error.js';
import type { RequestContext } from './request-context.js';
import { classifyFailure, mayRetry } from './retry-decision.js';
import type { UpstreamPools } from './upstream-pools.js';

export interface RetryDeps {
  pools: UpstreamPools;
  recorder: RequestRecorder;
  retries: number;
}

export class RetryHandler implements Dispatcher.DispatchHandler {
  constructor(
    private readonly ctx: RequestContext,
    private readonly exchange: Exchange,
    private readonly deps: RetryDeps,
  ) {}

  /** First attempt: to `pick` (the service queue's), or 503 when no backend is eligible at all. */
  start(pick: Choice | undefined): void {
    const ctx = this.ctx;
    const now = Date.now();
    if (pick === undefined) {
      ctx.settled = true;
      ctx.status = 503;
      this.deps.recorder.unrouted(ctx.method, ctx.service);
      sendProxyError(ctx.res, 'noBackend', 'no healthy backend available');
      return;
    }
    this.send(pick, now);
  }

  private send(pick: Choice, now: number): void {
    const ctx = this.ctx;
    ctx.pick = pick;
    ctx.controller = undefined;
    ctx.ahead = this.deps.recorder.attemptStarted(pick, now);
    ctx.attemptStartedAt = performance.now();
    ctx.attemptOpen = true;
    // lb.timeout.body (SSE, long-poll): the service's own response and body idle timeout instead
    // of the pool's RESPONSE_TIMEOUT_MS and BODY_TIMEOUT_MS; an object only for those services
    const options =
      pick.timeoutMs === undefined
        ? ctx.options
        : { ...ctx.options, headersTimeout: pick.timeoutMs, bodyTimeout: pick.timeoutMs };
    this.deps.pools.get(pick.id, pick.url).dispatch(options, this);
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.exchange.onRequestStart(controller);
    void context;
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.exchange.onResponseStart(controller, statusCode, headers);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.exchange.onResponseData(controller, chunk);
  }

  onResponseEnd(): void {
    this.exchange.onResponseEnd();
  }

  onResponseError(controller: Dispatcher.DispatchController, err: Error): void {
    const ctx = this.ctx;
    if (ctx.settled) return; // the client left first; nothing to answer
    const kind = classifyFailure(err);
    if (!ctx.res.headersSent && mayRetry(ctx.method, ctx.hasBody, kind, ctx.attempt, this.deps.retries)) {
      const failed = ctx.pick!;
      ctx.tried ??= [];
      ctx.tried.push(failed.slot);
      const now = Date.now();
      const next = ctx.core.pick(now, ctx.affinity, ctx.tried);
      // nothing left to try: not a retry, the client gets this failure
      if (next === undefined) {
        this.exchange.fail(kind);
        return;
      }
      this.exchange.endAttempt(outcomeOf(kind));
      this.deps.recorder.retried(failed, kind);
      ctx.attempt++;
      this.send(next, now);
      return;
    }
    this.exchange.onResponseError(controller, err);
  }
}
