// The service queue's I/O half (issue #26): admits each request to a backend with room under
// its concurrency limit, or parks it in the service's one queue (balancing/service-queue.ts)
// with its body unread (the request stream is not touched until a backend takes it), and
// hands the oldest waiting request to pick() again on every completion, so whichever backend
// frees first takes it. Past the bound, the predicted wait or the deadline: 503 + Retry-After
// + LB_ERR_OVERLOADED, at once; a client that leaves is forgotten. The scale-to-zero hold is
// the same queue: hold/hold-controller.ts parks a request or a WebSocket upgrade for a
// sleeping or waking service here (cause `hold`, HOLD_TIMEOUT_MS, HOLD_MAX_REQUESTS, the
// hold's error codes), and once the service is awake the same hand-off takes them, in
// arrival order with the others. One timer per queue ticks only while something waits. The
// pure queue decides; this keeps sockets and timers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { LB_METRICS, type Logger, type QueueView } from '@headroom/shared';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BalancerCore, Pick as Choice } from '../balancing/balancer-core.js';
import {
  expiryReason,
  holdRetryAfterSeconds,
  pastResponseBudget,
  type QueueEntry,
  ServiceQueue,
  type ShedReason,
  WAIT_CAUSES,
  type WaitCause,
} from '../balancing/service-queue.js';
import type { ProxyErrorKind } from '../errors.js';
import { rawProxyError, sendProxyError } from './proxy-error.js';

/** Dispatches a request to `pick`, or answers 503 no-backend when undefined. */
export type Go = (req: IncomingMessage, res: ServerResponse, pick: Choice | undefined) => void;
/** A held request taken back out (rehome): routed again from the start. */
export type Resume = (req: IncomingMessage, res: ServerResponse) => void;
/** A held WebSocket (Upgrade) request, released: routed again and tunnelled as usual. */
export type ResumeUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface AdmissionSettings {
  /** QUEUE_TIMEOUT_MS, QUEUE_MAX. */
  timeoutMs: number;
  max: number;
  service: string;
  /** HOLD_TIMEOUT_MS, HOLD_MAX_REQUESTS: a held request's deadline and the depth it may join. */
  hold?: { timeoutMs: number; max: number };
}

export interface AdmissionDeps {
  core: Pick<BalancerCore, 'pick' | 'hasEligible' | 'expectedMs' | 'fastestMs'>;
  /** pick() for this request (its affinity), with `waiting` others in the queue. */
  pickFor: (req: IncomingMessage, waiting: number) => Choice | undefined;
  /** Sends a request that waited here to its pick. */
  go: Go;
  /** True while the service holds (sleeping or waking): held requests wait for its first health pass. */
  holding?: () => boolean;
  logger: Logger;
  registry?: Registry | undefined;
  now?: () => number;
}

/** A waiting request: a plain one (res) or a held upgrade (socket + head, with its resume). */
interface Waiting {
  readonly req: IncomingMessage;
  readonly res: ServerResponse | null;
  readonly socket: Duplex | null;
  readonly head: Buffer | null;
  /** A held request's way back to the proxy's routing (rehome); null for one waiting at the limits. */
  readonly resume: Resume | null;
  readonly resumeUpgrade: ResumeUpgrade | null;
  entry: QueueEntry<Waiting> | undefined;
  onClose: (() => void) | undefined;
}

/** A held request taken out of the queue to be routed again (rehome). */
export type HeldRequest =
  | { readonly req: IncomingMessage; readonly res: ServerResponse; readonly resume: Resume }
  | {
      readonly req: IncomingMessage;
      readonly res: null;
      readonly socket: Duplex;
      readonly head: Buffer;
      readonly resumeUpgrade: ResumeUpgrade;
    };

/** How often the queue looks at its deadlines (and for new room) while something waits. */
export const QUEUE_TICK_MS = 20;

/**
 * A run of 503s ends once nothing was shed for this long; one line then sums it up. A line per
 * shed would flood the log exactly when the host is busiest, and none left a user with 503s and
 * no word of why ("why did my clients get 503s?").
 */
export const SHED_QUIET_MS = 5_000;

/** The refusals a run of sheds reports: a client that left or a shutdown is not overload. */
const OVERLOAD_SHEDS: ReadonlySet<ShedReason> = new Set([
  'full',
  'predicted-wait',
  'timeout',
  'hold-timeout',
]);

/** The defaults of HOLD_TIMEOUT_MS and HOLD_MAX_REQUESTS (packages/shared config says the same). */
const DEFAULT_HOLD = { timeoutMs: 30_000, max: 1_000 } as const;

export class Admission {
  private readonly queue = new ServiceQueue<Waiting>();
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly holding: () => boolean;
  private readonly metrics: QueueMetrics | null;
  private readonly shedCounts: Record<string, number> = {};
  private dispatchQueued = false;
  /** The current run of sheds: when it began and ended so far, and its count by reason. */
  private sheds: { since: number; last: number; counts: Record<string, number> } | null = null;

  constructor(
    private readonly settings: AdmissionSettings,
    private readonly deps: AdmissionDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.holding = deps.holding ?? (() => false);
    this.metrics = deps.registry ? queueMetrics(deps.registry, this) : null;
  }

  /** Every request waiting, held or at the limits: the service's one depth. */
  get depth(): number {
    return this.queue.size;
  }

  /** Requests waiting of one cause (`hold`: for a sleeping or waking service). */
  waiting(cause: WaitCause): number {
    return this.queue.count(cause);
  }

  get service(): string {
    return this.settings.service;
  }

  private get hold(): { timeoutMs: number; max: number } {
    return this.settings.hold ?? DEFAULT_HOLD;
  }

  view(): QueueView {
    return {
      depth: this.queue.size,
      held: this.queue.count('hold'),
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
    this.wait(waiting(req, res, null), 'limit');
    return null;
  }

  /**
   * Scale to zero: a request for a sleeping or waking service waits here, behind whatever
   * waits already, until HOLD_TIMEOUT_MS. False when it was answered at once (503, the queue
   * is at HOLD_MAX_REQUESTS).
   */
  holdRequest(req: IncomingMessage, res: ServerResponse, resume: Resume): boolean {
    return this.wait(waiting(req, res, resume), 'hold');
  }

  /** A WebSocket (any Upgrade) for a sleeping or waking service: held like a request, then tunnelled. */
  holdUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, resume: ResumeUpgrade): boolean {
    const w: Waiting = {
      req,
      res: null,
      socket,
      head,
      resume: null,
      resumeUpgrade: resume,
      entry: undefined,
      onClose: undefined,
    };
    return this.wait(w, 'hold');
  }

  /** A browser shown the waiting page (HOLD_HTML_PAGE) instead of being held: counted, never queued. */
  waitingPageShown(): void {
    this.count('hold', 'waiting-page');
  }

  private wait(w: Waiting, cause: WaitCause): boolean {
    const { timeoutMs, max } = cause === 'hold' ? this.hold : this.settings;
    const now = this.now();
    // the response budget (service-queue.ts): a held request's wait is for a wake, no backend's time counts
    const serviceMs = cause === 'limit' ? this.deps.core.fastestMs(now) : 0;
    const r = this.queue.admit(w, now, { timeoutMs, max, cause, serviceMs });
    if (!r.ok) {
      this.shed(w, cause, r.reason);
      return false;
    }
    w.entry = r.entry;
    w.onClose = () => this.clientGone(w);
    closeTarget(w).once('close', w.onClose);
    if (this.timer === null) {
      this.timer = setInterval(this.tick, QUEUE_TICK_MS);
      this.timer.unref();
    }
    return true;
  }

  private clientGone(w: Waiting): void {
    const e = w.entry;
    if (e === undefined || !this.queue.remove(e)) return;
    this.count(e.cause, 'client-gone');
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

  /**
   * Hands waiting requests, oldest first, to backends with room, until none has. A held one
   * goes only once its service is awake (the hold controller calls this on the first health
   * pass); until then nothing behind it passes it either.
   */
  dispatch(): void {
    const now = this.now();
    for (
      let head = this.queue.next(this.holding());
      head !== undefined;
      head = this.queue.next(this.holding())
    ) {
      const w = head.item;
      if (w.res === null) {
        // a held upgrade: its tunnel picks its own backend (a tunnel is not a request under the
        // limits); it needs one eligible, else the deadline answers it
        if (!this.deps.core.hasEligible()) return;
        this.take(head, now);
        w.resumeUpgrade!(w.req, w.socket!, w.head!);
        continue;
      }
      const pick = this.deps.pickFor(w.req, this.queue.size - 1);
      if (pick === undefined) {
        // nothing eligible any more: the deadline answers them (a replica may come back)
        return;
      }
      if (
        head.cause === 'limit' &&
        pastResponseBudget(now - head.at, this.deps.core.expectedMs(pick.slot, now), this.settings.timeoutMs)
      ) {
        // its answer from this backend would come after QUEUE_TIMEOUT_MS: the 503 now, and the
        // backend's room goes to the next in line (younger, so it may still make it)
        this.queue.shift();
        this.shed(w, 'limit', 'timeout');
        continue;
      }
      this.take(head, now);
      this.deps.go(w.req, w.res, pick);
    }
    this.stopTimerIfEmpty();
  }

  private take(head: QueueEntry<Waiting>, now: number): void {
    this.queue.shift();
    this.left(head.item);
    this.metrics?.wait.labels(this.settings.service, head.cause).observe((now - head.at) / 1000);
  }

  /**
   * This service lost its routes while requests were held: every held one leaves the queue
   * (not counted as shed) for the caller to route again; the others keep their places.
   */
  takeHeld(): HeldRequest[] {
    return this.queue.drainCause('hold').map((e) => {
      const w = e.item;
      this.left(w);
      return w.res !== null
        ? { req: w.req, res: w.res, resume: w.resume! }
        : { req: w.req, res: null, socket: w.socket!, head: w.head!, resumeUpgrade: w.resumeUpgrade! };
    });
  }

  private readonly tick = (): void => {
    const now = this.now();
    // past the deadline, or at the limits past the response budget even for the fastest backend
    for (const e of this.queue.expire(now, this.deps.core.fastestMs(now)))
      this.shed(e.item, e.cause, expiryReason(e.cause));
    // held requests wait for a wake: no drain-rate sample may span it (ServiceQueue.stalled)
    if (this.holding() && this.queue.count('hold') > 0) this.queue.stalled(now);
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
    if (w.onClose) closeTarget(w).off('close', w.onClose);
    w.onClose = undefined;
  }

  private count(cause: WaitCause, reason: ShedReason): void {
    this.shedCounts[reason] = (this.shedCounts[reason] ?? 0) + 1;
    this.metrics?.shed.labels(this.settings.service, cause, reason).inc();
    if (OVERLOAD_SHEDS.has(reason)) this.noteShed(cause, reason);
  }

  /** The first shed of a run is a warn line with its reason; the run's end, one line with the counts. */
  private noteShed(cause: WaitCause, reason: ShedReason): void {
    const now = this.now();
    if (this.sheds === null) {
      this.sheds = { since: now, last: now, counts: {} };
      this.deps.logger.warn(
        { service: this.settings.service, cause, reason, waiting: this.queue.size },
        `shedding requests (503): ${cause === 'hold' ? holdMessage(reason, this.hold) : overloadMessage(reason, this.settings)}`,
      );
      setTimeout(this.endSheds, SHED_QUIET_MS).unref();
    }
    this.sheds.last = now;
    this.sheds.counts[reason] = (this.sheds.counts[reason] ?? 0) + 1;
  }

  private readonly endSheds = (): void => {
    const run = this.sheds;
    if (run === null) return;
    const quiet = this.now() - run.last;
    if (quiet < SHED_QUIET_MS) {
      setTimeout(this.endSheds, SHED_QUIET_MS - quiet).unref();
      return;
    }
    this.sheds = null;
    const total = Object.values(run.counts).reduce((a, b) => a + b, 0);
    const seconds = (run.last - run.since) / 1000;
    this.deps.logger.info(
      { service: this.settings.service, shed: run.counts, seconds },
      `stopped shedding: ${total} ${total === 1 ? 'request' : 'requests'} answered 503 in ${seconds.toFixed(1)} s, none for ${SHED_QUIET_MS / 1000} s`,
    );
  };

  /** 503 + Retry-After now: the request will not get a backend from this queue. */
  private shed(w: Waiting, cause: WaitCause, reason: ShedReason): void {
    this.count(cause, reason);
    this.left(w);
    if (cause === 'hold') {
      const kind: ProxyErrorKind =
        reason === 'full' ? 'holdFull' : reason === 'shutdown' ? 'holdShutdown' : 'holdTimeout';
      // a held request's Retry-After: the hold timeout (the wake takes about that long at most); 1 s when full or stopping
      const retryAfter = reason === 'hold-timeout' ? holdRetryAfterSeconds(this.hold.timeoutMs) : 1;
      reject(w, kind, holdMessage(reason, this.hold), retryAfter, reason);
      return;
    }
    const retryAfter = this.queue.retryAfterSeconds(this.settings.timeoutMs);
    reject(w, 'overloaded', overloadMessage(reason, this.settings), retryAfter, reason);
  }

  /** Shutdown of a sleeping service: every held request gets its 503 now (no wake is coming). */
  stopHeld(): void {
    for (const e of this.queue.drainCause('hold')) this.shed(e.item, 'hold', 'shutdown');
    this.stopTimerIfEmpty();
  }
}

function waiting(req: IncomingMessage, res: ServerResponse, resume: Resume | null): Waiting {
  return {
    req,
    res,
    socket: null,
    head: null,
    resume,
    resumeUpgrade: null,
    entry: undefined,
    onClose: undefined,
  };
}

/** What a waiting request's departure is watched on: its response, or the upgrade's socket. */
function closeTarget(w: Waiting): ServerResponse | Duplex {
  return (w.res ?? w.socket)!;
}

function overloadMessage(reason: ShedReason, s: AdmissionSettings): string {
  switch (reason) {
    case 'full':
      return `every backend is at its concurrency limit and ${s.max} requests already wait (QUEUE_MAX)`;
    case 'predicted-wait':
      return `every backend is at its concurrency limit and the predicted wait plus a backend's time would be longer than QUEUE_TIMEOUT_MS (${s.timeoutMs} ms)`;
    case 'shutdown':
      return 'the balancer is shutting down';
    default:
      return `no backend could answer within QUEUE_TIMEOUT_MS (${s.timeoutMs} ms) of the request's arrival`;
  }
}

function holdMessage(reason: ShedReason, hold: { timeoutMs: number; max: number }): string {
  switch (reason) {
    case 'full':
      return `${hold.max} requests already wait in the service queue while the service wakes (HOLD_MAX_REQUESTS)`;
    case 'shutdown':
      return 'the balancer is shutting down';
    default:
      return `the service did not wake within HOLD_TIMEOUT_MS (${hold.timeoutMs} ms)`;
  }
}

function reject(w: Waiting, kind: ProxyErrorKind, message: string, retryAfter: number, reason: string): void {
  if (w.res !== null) {
    if (w.res.destroyed) return;
    sendProxyError(w.res, kind, message, { 'retry-after': String(retryAfter), 'x-headroom-shed': reason });
  } else if (w.socket?.writable) {
    w.socket.end(
      rawProxyError(kind, message).replace(
        '\r\n\r\n',
        `\r\nretry-after: ${retryAfter}\r\nx-headroom-shed: ${reason}\r\n\r\n`,
      ),
    );
  }
}

interface QueueMetrics {
  wait: Histogram<'service' | 'cause'>;
  shed: Counter<'service' | 'cause' | 'reason'>;
}

// one set of series per registry, whatever the number of services: each Admission is one `service` label value
const byRegistry = new WeakMap<Registry, { metrics: QueueMetrics; queues: Set<Admission> }>();

function queueMetrics(registry: Registry, a: Admission): QueueMetrics {
  let entry = byRegistry.get(registry);
  if (entry === undefined) {
    const queues = new Set<Admission>();
    new Gauge({
      name: LB_METRICS.queueDepth,
      help: 'Requests waiting now in the service queue, by cause: limit (every backend at its concurrency limit) or hold (the service sleeps or wakes).',
      labelNames: ['service', 'cause'],
      registers: [registry],
      collect() {
        for (const q of queues)
          for (const cause of WAIT_CAUSES) this.set({ service: q.service, cause }, q.waiting(cause));
      },
    });
    const metrics: QueueMetrics = {
      wait: new Histogram({
        name: LB_METRICS.queueWait,
        help: 'Time a request waited in the service queue before a backend took it, by cause (limit, hold).',
        labelNames: ['service', 'cause'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
        registers: [registry],
      }),
      shed: new Counter({
        name: LB_METRICS.queueShed,
        help: 'Requests that left the service queue without a backend, by cause and reason (full, predicted-wait, timeout, hold-timeout, client-gone, shutdown, waiting-page).',
        labelNames: ['service', 'cause', 'reason'],
        registers: [registry],
      }),
    };
    entry = { metrics, queues };
    byRegistry.set(registry, entry);
  }
  entry.queues.add(a);
  return entry.metrics;
}
