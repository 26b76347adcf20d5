// The service queue's I/O half (issue #26): admits each request to a backend with room under
// its concurrency limit, or parks it in the service's one queue (balancing/service-queue.ts)
// with its body unread (the request stream is not touched until a backend takes it), and
// hands the oldest waiting request to pick() again on every completion, so whichever backend
// frees first takes it. Past the bound, the predicted wait or the deadline: 503 + Retry-After
// + LB_ERR_OVERLOADED, at once; a client that leaves is forgotten. Held requests of a waking
// service (hold/hold-controller.ts) enter it when released. One timer per queue ticks only
// while something waits. The pure queue decides; this keeps sockets and timers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LB_METRICS, type Logger, type QueueView } from '@headroom/shared';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BalancerCore, Pick as Choice } from '../balancing/balancer-core.js';
import { type QueueEntry, ServiceQueue, type ShedReason } from '../balancing/service-queue.js';
import { sendProxyError } from './proxy-error.js';

/** Dispatches a request to `pick`, or answers 503 no-backend when undefined. */
export type Go = (req: IncomingMessage, res: ServerResponse, pick: Choice | undefined) => void;

export interface AdmissionSettings {
  /** QUEUE_TIMEOUT_MS, QUEUE_MAX. */
  timeoutMs: number;
  max: number;
  service: string;
}

export interface AdmissionDeps {
  core: Pick<BalancerCore, 'pick' | 'hasEligible'>;
  /** pick() for this request (its affinity), with `waiting` others in the queue. */
  pickFor: (req: IncomingMessage, waiting: number) => Choice | undefined;
  /** Sends a request that waited here to its pick. */
  go: Go;
  logger: Logger;
  registry?: Registry | undefined;
  now?: () => number;
}

interface Waiting {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  entry: QueueEntry<Waiting> | undefined;
  onClose: (() => void) | undefined;
}

type ShedCause = ShedReason | 'timeout' | 'shutdown';

/** How often the queue looks at its deadlines (and for new room) while something waits. */
export const QUEUE_TICK_MS = 20;

export class Admission {
  private readonly queue = new ServiceQueue<Waiting>();
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly metrics: QueueMetrics | null;
  private readonly shedCounts: Record<string, number> = {};
  private dispatchQueued = false;

  constructor(
    private readonly settings: AdmissionSettings,
    private readonly deps: AdmissionDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.metrics = deps.registry ? queueMetrics(deps.registry, this) : null;
  }

  get depth(): number {
    return this.queue.size;
  }

  get service(): string {
    return this.settings.service;
  }

  view(): QueueView {
    return {
      depth: this.queue.size,
      timeoutMs: this.settings.timeoutMs,
      max: this.settings.max,
      shed: { ...this.shedCounts },
    };
  }

  /**
   * A new request: the backend to send it to now, undefined when the service has no eligible
   * backend at all (the caller answers 503 as before), or null when it waits here (or was
   * answered 503 by the queue). The warm path (nothing waits, a backend has room): one pick,
   * no allocation. Otherwise it waits in arrival order behind the others.
   */
  enter(req: IncomingMessage, res: ServerResponse): Choice | undefined | null {
    if (this.queue.size === 0) {
      const pick = this.deps.pickFor(req, 0);
      if (pick !== undefined || !this.deps.core.hasEligible()) return pick;
    } else if (!this.deps.core.hasEligible()) {
      // nothing to wait for (every backend unhealthy or draining): the 503 now, as without a queue
      return undefined;
    }
    this.wait(req, res);
    return null;
  }

  private wait(req: IncomingMessage, res: ServerResponse): void {
    const s = this.settings;
    const w: Waiting = { req, res, entry: undefined, onClose: undefined };
    const r = this.queue.admit(w, this.now(), { timeoutMs: s.timeoutMs, max: s.max, predict: true });
    if (!r.ok) {
      this.shed(w, r.reason);
      return;
    }
    w.entry = r.entry;
    w.onClose = () => this.clientGone(w);
    res.once('close', w.onClose);
    if (this.timer === null) {
      this.timer = setInterval(this.tick, QUEUE_TICK_MS);
      this.timer.unref();
    }
  }

  private clientGone(w: Waiting): void {
    if (w.entry === undefined || !this.queue.remove(w.entry)) return;
    this.count('client-gone');
    this.left(w);
  }

  /** A request finished at one of the service's backends: the oldest waiting one may go now. */
  completed(): void {
    this.queue.completed(this.now());
    // on the next microtask: the completion is inside undici's callback of another request
    if (this.queue.size > 0 && !this.dispatchQueued) {
      this.dispatchQueued = true;
      queueMicrotask(this.dispatchNow);
    }
  }

  private readonly dispatchNow = (): void => {
    this.dispatchQueued = false;
    this.dispatch();
  };

  /** Hands waiting requests, oldest first, to backends with room, until none has. */
  dispatch(): void {
    const now = this.now();
    for (let head = this.queue.peek(); head !== undefined; head = this.queue.peek()) {
      const w = head.item;
      const pick = this.deps.pickFor(w.req, this.queue.size - 1);
      if (pick === undefined) {
        // nothing eligible any more: the deadline answers them (a replica may come back)
        return;
      }
      this.queue.shift();
      this.left(w);
      this.metrics?.wait.labels(this.settings.service).observe((now - head.at) / 1000);
      this.deps.go(w.req, w.res, pick);
    }
    this.stopTimerIfEmpty();
  }

  private readonly tick = (): void => {
    const now = this.now();
    for (const e of this.queue.expire(now)) this.shed(e.item, 'timeout');
    this.dispatch();
    this.stopTimerIfEmpty();
  };

  private stopTimerIfEmpty(): void {
    if (this.queue.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private left(w: Waiting): void {
    if (w.onClose) w.res.off('close', w.onClose);
    w.onClose = undefined;
  }

  private count(reason: string): void {
    this.shedCounts[reason] = (this.shedCounts[reason] ?? 0) + 1;
    this.metrics?.shed.labels(this.settings.service, reason).inc();
  }

  /** 503 + Retry-After now: the request will not get a backend from this queue. */
  private shed(w: Waiting, cause: ShedCause): void {
    this.count(cause);
    this.left(w);
    const retryAfter = this.queue.retryAfterSeconds(this.settings.timeoutMs);
    reject(w.res, overloadMessage(cause, this.settings), retryAfter, cause);
  }

  /** Shutdown: every waiting request gets its 503 now (it would otherwise wait out the grace period). */
  stop(): void {
    for (const e of this.queue.drainAll()) this.shed(e.item, 'shutdown');
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function overloadMessage(cause: ShedCause, s: AdmissionSettings): string {
  switch (cause) {
    case 'full':
      return `every backend is at its concurrency limit and ${s.max} requests already wait (QUEUE_MAX)`;
    case 'predicted-wait':
      return `every backend is at its concurrency limit and the wait would be longer than QUEUE_TIMEOUT_MS (${s.timeoutMs} ms)`;
    case 'timeout':
      return `no backend had room within QUEUE_TIMEOUT_MS (${s.timeoutMs} ms)`;
    case 'shutdown':
      return 'the balancer is shutting down';
  }
}

function reject(res: ServerResponse, message: string, retryAfter: number, cause: string): void {
  if (res.destroyed) return;
  sendProxyError(res, 'overloaded', message, { 'retry-after': String(retryAfter), 'x-headroom-shed': cause });
}

interface QueueMetrics {
  wait: Histogram<'service'>;
  shed: Counter<'service' | 'reason'>;
}

// one set of series per registry, whatever the number of services: each Admission is one `service` label value
const byRegistry = new WeakMap<Registry, { metrics: QueueMetrics; queues: Set<Admission> }>();

function queueMetrics(registry: Registry, a: Admission): QueueMetrics {
  let entry = byRegistry.get(registry);
  if (entry === undefined) {
    const queues = new Set<Admission>();
    new Gauge({
      name: LB_METRICS.queueDepth,
      help: 'Requests waiting in the service queue now for a backend under its concurrency limit.',
      labelNames: ['service'],
      registers: [registry],
      collect() {
        for (const q of queues) this.set({ service: q.service }, q.depth);
      },
    });
    const metrics: QueueMetrics = {
      wait: new Histogram({
        name: LB_METRICS.queueWait,
        help: 'Time a request waited in the service queue before a backend took it.',
        labelNames: ['service'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
        registers: [registry],
      }),
      shed: new Counter({
        name: LB_METRICS.queueShed,
        help: 'Requests that left the service queue without a backend, by reason (full, predicted-wait, timeout, client-gone, shutdown).',
        labelNames: ['service', 'reason'],
        registers: [registry],
      }),
    };
    entry = { metrics, queues };
    byRegistry.set(registry, entry);
  }
  entry.queues.add(a);
  return entry.metrics;
}
