// One client request as the proxy handles it: the facts read once (method, body, affinity,
// the upstream headers and dispatch options, reused by every attempt), every backend slot
// tried so far, and the attempt in progress. Plain data: the Exchange streams and reports
// from it, the RetryHandler decides from it.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { Affinity, BalancerCore, Pick } from '../balancing/balancer-core.js';
import type { Admission } from './admission.js';

export class RequestContext {
  readonly method: string;
  /** A request with a body is never retried (the body stream is consumed by the first attempt). */
  readonly hasBody: boolean;
  readonly options: Dispatcher.DispatchOptions;
  /** performance.now() when the request arrived: client-visible latency counts from here. */
  readonly startedAt = performance.now();
  /** Slot handles already tried, so a retry never returns to a backend that failed (allocated on the first retry). */
  tried: number[] | undefined = undefined;
  /** 0 for the first attempt. */
  attempt = 0;
  /** The attempt in progress (or the last one). */
  pick: Pick | undefined = undefined;
  /** What the core's begin() returned for it; handed back to end(). */
  ahead = 0;
  attemptStartedAt = 0;
  /** An attempt has begun in the core and not ended yet. */
  attemptOpen = false;
  controller: Dispatcher.DispatchController | undefined = undefined;
  /** Response body bytes sent to the client (the access log). */
  bytes = 0;
  /** Status sent to the client (0 until sent). */
  status = 0;
  /** performance.now() at the final attempt's response headers (0 until then). */
  headersAt = 0;
  /** The client has its outcome (or left): nothing more is written or recorded. */
  settled = false;
  clientGone = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The balancer of the request's service: every attempt picks from it. */
    readonly core: BalancerCore,
    readonly affinity: Affinity | undefined,
    headers: Record<string, string | string[]>,
    /** The path and query sent upstream (the route's prefix removed when it strips). */
    path: string,
    /** The request's service (lb.service value; '' unlabelled). */
    readonly service: string,
    /** The service's queue (issue #26): told when an attempt ends, so a waiting request can go. */
    readonly queue?: Admission,
  ) {
    this.method = req.method ?? 'GET';
    const length = req.headers['content-length'];
    this.hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    this.options = {
      path,
      method: this.method as Dispatcher.HttpMethod,
      headers,
      body: this.hasBody ? req : null,
    };
  }
}
