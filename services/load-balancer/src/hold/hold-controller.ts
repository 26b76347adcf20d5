// Scale to zero (issue #19), the I/O half: holds requests for a sleeping or waking service
// (their bodies unread: the request stream stays paused until a backend takes it), asks the
// autoscaler to wake it, answers 503 + Retry-After on overflow or deadline, and releases the
// held requests in arrival order on the first health pass. The decisions are the pure
// service-state, hold-queue and wake-plan modules; this only keeps timers and sockets.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  LB_METRICS,
  type Logger,
  METRIC_LABELS,
  SERVICE_STATES,
  type ServiceState,
  type ServiceView,
  type WakeBody,
} from '@headroom/shared';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { rawProxyError, sendProxyError } from '../proxy/proxy-error.js';
import { DEFAULT_SERVICE_NAME } from '../services/service-registry.js';
import { type Held, HoldQueue, retryAfterSeconds, wantsWaitingPage } from './hold-queue.js';
import {
  holds,
  initialStatus,
  nextStatus,
  SERVICE_REASONS,
  type ServiceEvent,
  type ServiceStatus,
} from './service-state.js';
import {
  DEFAULT_WAKE_SETTINGS,
  NO_WAKE_CALLS,
  planWake,
  type WakeCalls,
  type WakeSettings,
  wakeResult,
  wakeSent,
} from './wake-plan.js';

export type Resume = (req: IncomingMessage, res: ServerResponse) => void;
/** A held WebSocket (Upgrade) request, released: tunnelled as usual. */
export type ResumeUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** A held request: a plain one (res) or an upgrade (socket + head), each with its resume. */
interface Parked {
  readonly req: IncomingMessage;
  readonly res: ServerResponse | null;
  readonly resume: Resume | null;
  readonly socket: Duplex | null;
  readonly head: Buffer | null;
  readonly resumeUpgrade: ResumeUpgrade | null;
  onClose: (() => void) | null;
}

/** What a held request's close is watched on: its response, or the upgrade's socket. */
function closeTarget(p: Parked): ServerResponse | Duplex {
  return (p.res ?? p.socket)!;
}

function resumeParked(p: Parked): void {
  if (p.res !== null) p.resume!(p.req, p.res);
  else p.resumeUpgrade!(p.req, p.socket!, p.head!);
}

function rejectParked(p: Parked, kind: HoldErrorKind, message: string, retryAfter: number): void {
  if (p.res !== null) reject(p.res, kind, message, retryAfter);
  else if (p.socket !== null && p.socket.writable)
    p.socket.end(rawProxyError(kind, message).replace('\r\n\r\n', `\r\nretry-after: ${retryAfter}\r\n\r\n`));
}

export interface HoldSettings {
  timeoutMs: number;
  maxRequests: number;
  htmlPage: boolean;
  /** WAKE_URL, else AUTOSCALER_URL; undefined: hold is off (requests fail fast as before). */
  wakeUrl: string | undefined;
  /** The shared admin token the autoscaler checks on POST /api/wake. */
  token: string | undefined;
  serviceName: string;
  wake?: WakeSettings;
}

export interface HoldDeps {
  logger: Logger;
  /** A registry of its own (one service); with several services, `metrics` shared by all. */
  registry?: Registry;
  /** The hold series every service's controller writes, labelled by service (createHoldMetrics). */
  metrics?: HoldMetrics;
  now?: () => number;
  /** Injected for fault tests; default: global fetch. */
  fetch?: typeof fetch;
}

export class HoldController {
  /** Hot path: set per request (a number, no allocation); 0 = none since start. */
  lastRequestAt = 0;
  /** Hot path: true while requests must be held (not awake and hold is on). */
  holding = false;
  /** Open WebSocket (Upgrade) sessions: while any is open the service is not idle. */
  private sessions = 0;
  private status: ServiceStatus;
  private readonly queue: HoldQueue<Parked>;
  private idleAfterMs: number | null = null;
  private backends = 0;
  private calls: WakeCalls = NO_WAKE_CALLS;
  private wakeTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly fetchFn: typeof fetch;
  private readonly wake: WakeSettings;
  private readonly metrics: HoldMetrics | null;

  constructor(
    private readonly settings: HoldSettings,
    private readonly deps: HoldDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.fetchFn = deps.fetch ?? fetch;
    this.wake = settings.wake ?? DEFAULT_WAKE_SETTINGS;
    this.status = initialStatus(this.now());
    // nothing known and no backend yet: hold from the start (setBackends lifts it)
    this.holding = this.enabled && holds(this.status, this.backends);
    this.queue = new HoldQueue(settings.maxRequests, settings.timeoutMs);
    this.metrics = deps.metrics ?? (deps.registry ? createHoldMetrics(deps.registry, () => [this]) : null);
  }

  get enabled(): boolean {
    return this.settings.wakeUrl !== undefined;
  }

  get state(): ServiceState {
    return this.status.state;
  }

  /** The service whose requests this holds (LB_SERVICE). */
  get serviceName(): string {
    return this.settings.serviceName;
  }

  get held(): number {
    return this.queue.size;
  }

  /**
   * How many backends the service has (any state), after each set. Before the first call it has
   * none: with hold-and-wake on, a request that arrives before anything is known is held.
   */
  setBackends(count: number): void {
    this.backends = count;
    this.holding = this.enabled && holds(this.status, count);
  }

  setIdleAfter(ms: number | null): void {
    this.idleAfterMs = ms;
  }

  view(): ServiceView {
    return {
      name: this.settings.serviceName,
      state: this.status.state,
      since: new Date(this.status.since).toISOString(),
      held: this.queue.size,
      // an open WebSocket is traffic as long as it lasts: the service is never idle under one
      lastRequestAt: this.sessions > 0 ? this.now() : this.lastRequestAt === 0 ? null : this.lastRequestAt,
      openSessions: this.sessions,
      idleAfterMs: this.idleAfterMs,
    };
  }

  sessionOpened(): void {
    this.sessions++;
    this.lastRequestAt = this.now();
  }

  sessionClosed(): void {
    if (this.sessions > 0) this.sessions--;
    this.lastRequestAt = this.now();
  }

  /** Feeds one event to the state machine; logs a change once, with its reason. */
  event(e: ServiceEvent): void {
    const before = this.status;
    const after = nextStatus(before, e, this.now());
    if (after === before) return;
    this.status = after;
    this.holding = this.enabled && holds(after, this.backends);
    const released = after.state === 'awake' ? this.queue.size : 0;
    this.deps.logger.info(
      {
        service: this.settings.serviceName,
        from: before.state,
        to: after.state,
        code: after.reason,
        detail: after.detail,
        held: this.queue.size,
      },
      `${after.state}: ${this.describe(after, released)}`,
    );
    if (after.state === 'awake') {
      this.calls = NO_WAKE_CALLS;
      if (this.wakeTimer) clearTimeout(this.wakeTimer);
      this.wakeTimer = null;
      // the core marks the backend healthy right after it reports the transition: release on
      // the next turn, when picks see it
      setImmediate(() => this.release());
    }
  }

  private describe(s: ServiceStatus, released: number): string {
    switch (s.reason) {
      case 'AutoscalerSaidIdle':
        return `autoscaler said idle${s.detail ? ` (${s.detail})` : ''}`;
      case 'FirstHealthPass':
        return `backend ${s.detail} passed its first health check, released ${released} held`;
      case 'RequestHeld':
        return 'request held';
      default:
        return SERVICE_REASONS[s.reason];
    }
  }

  /** The proxy calls this instead of forwarding while `holding` is true. */
  hold(req: IncomingMessage, res: ServerResponse, resume: Resume): void {
    this.event({ kind: 'request', backends: this.backends });
    if (wantsWaitingPage(req.headers.accept, this.settings.htmlPage)) {
      this.askWake(1);
      this.metrics?.total.inc({ service: this.settings.serviceName, outcome: 'page' });
      writeWaitingPage(res, retryAfterSeconds(this.settings.timeoutMs));
      return;
    }
    this.park({ req, res, resume, socket: null, head: null, resumeUpgrade: null, onClose: null }, res);
  }

  /**
   * A WebSocket (any Upgrade) while `holding`: held like a request (it wakes the service), then
   * tunnelled on the first health pass; 503 with Retry-After on overflow or deadline.
   */
  holdUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, resume: ResumeUpgrade): void {
    this.event({ kind: 'request' });
    this.park({ req, res: null, resume: null, socket, head, resumeUpgrade: resume, onClose: null }, socket);
  }

  /**
   * Admits a request or an upgrade to the hold queue (503 when it is full), leaves it when its
   * client goes (`closes` is its response or its socket), and makes sure a wake is asked for.
   */
  private park(parked: Parked, closes: { once(event: 'close', listener: () => void): unknown }): void {
    const r = this.queue.admit(parked, this.now());
    if (!r.ok) {
      this.metrics?.total.inc({ service: this.settings.serviceName, outcome: 'overflow' });
      rejectParked(
        parked,
        'holdFull',
        `${this.settings.maxRequests} requests already held while the service wakes (HOLD_MAX_REQUESTS)`,
        1,
      );
      return;
    }
    const held = r.held;
    parked.onClose = () => {
      if (this.queue.remove(held))
        this.metrics?.total.inc({ service: this.settings.serviceName, outcome: 'client-gone' });
    };
    closes.once('close', parked.onClose);
    this.armDeadline();
    this.askWake();
  }

  /** This service lost its routes: every held request goes back to the proxy to be routed again. */
  rehome(): void {
    setImmediate(() => this.release());
  }

  private release(): void {
    const all = this.queue.drain();
    this.disarmDeadline();
    const now = this.now();
    for (const h of all) {
      const p = h.item;
      if (p.onClose) closeTarget(p).off('close', p.onClose);
      this.metrics?.total.inc({ service: this.settings.serviceName, outcome: 'released' });
      this.metrics?.duration.observe({ service: this.settings.serviceName }, (now - h.heldAt) / 1000);
      resumeParked(p);
    }
  }

  private armDeadline(): void {
    if (this.deadlineTimer) return;
    const next = this.queue.nextDeadline();
    if (next === null) return;
    this.deadlineTimer = setTimeout(
      () => {
        this.deadlineTimer = null;
        this.expire();
      },
      Math.max(0, next - this.now()),
    );
  }

  private disarmDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
  }

  private expire(): void {
    const retry = retryAfterSeconds(this.settings.timeoutMs);
    for (const h of this.queue.expire(this.now())) {
      const p = h.item;
      if (p.onClose) closeTarget(p).off('close', p.onClose);
      this.metrics?.total.inc({ service: this.settings.serviceName, outcome: 'timeout' });
      rejectParked(
        p,
        'holdTimeout',
        `the service did not wake within HOLD_TIMEOUT_MS (${this.settings.timeoutMs} ms)`,
        retry,
      );
    }
    this.armDeadline();
  }

  /** `waiting`: at least this many wait (a browser shown the waiting page is not in the queue). */
  private askWake(waiting = 0): void {
    if (!this.enabled || this.status.state === 'awake' || this.wakeTimer) return;
    const d = planWake(this.calls, Math.max(waiting, this.queue.size), this.now(), this.wake);
    if (d.call) {
      void this.sendWake();
      return;
    }
    if (d.retryAt !== null)
      this.wakeTimer = setTimeout(
        () => {
          this.wakeTimer = null;
          this.askWake();
        },
        Math.max(0, d.retryAt - this.now()),
      );
  }

  private async sendWake(): Promise<void> {
    const held = this.queue.size;
    this.calls = wakeSent(held, this.now(), this.calls);
    // one autoscaler may scale many services: the wake names which (the default service needs no name)
    const body: WakeBody = {
      held: Math.max(1, held),
      reason: 'WakeOnRequest',
      ...(this.settings.serviceName === DEFAULT_SERVICE_NAME ? {} : { service: this.settings.serviceName }),
    };
    let ok = false;
    try {
      const res = await this.fetchFn(`${this.settings.wakeUrl}/api/wake`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.settings.token ? { authorization: `Bearer ${this.settings.token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(3_000),
      });
      await res.body?.cancel();
      ok = res.ok;
      if (!ok)
        this.deps.logger.warn(
          { status: res.status, wakeUrl: this.settings.wakeUrl },
          'wake call refused: retrying',
        );
    } catch (err) {
      this.deps.logger.warn(
        { err: (err as Error).message, wakeUrl: this.settings.wakeUrl },
        'wake call failed: retrying',
      );
    }
    this.calls = wakeResult(ok, this.calls);
    // a failure or a grown held count: plan the next call (no-op when awake by now)
    this.askWake();
  }

  /** Shutdown: every held request gets its 503 now (it would otherwise wait out the grace period). */
  stop(): void {
    for (const h of this.queue.drain()) {
      const p = h.item;
      if (p.onClose) closeTarget(p).off('close', p.onClose);
      rejectParked(p, 'holdShutdown', 'the balancer is shutting down', 1);
    }
    this.disarmDeadline();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
  }
}

type HoldErrorKind = 'holdFull' | 'holdTimeout' | 'holdShutdown';

function reject(res: ServerResponse, kind: HoldErrorKind, message: string, retryAfter: number): void {
  if (res.destroyed) return;
  sendProxyError(res, kind, message, { 'retry-after': String(retryAfter) });
}

function writeWaitingPage(res: ServerResponse, retryAfter: number): void {
  res.writeHead(503, {
    'content-type': 'text/html; charset=utf-8',
    'retry-after': String(retryAfter),
    'cache-control': 'no-store',
  });
  res.end(
    '<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">' +
      '<title>Starting…</title></head><body style="font-family:sans-serif;text-align:center;margin-top:20vh">' +
      '<h1>Starting the service…</h1><p>This page reloads by itself.</p></body></html>',
  );
}

export interface HoldMetrics {
  total: Counter<'service' | 'outcome'>;
  duration: Histogram<'service'>;
}

/** The hold series, once per registry: each service's controller writes its own `service` label. */
export function createHoldMetrics(
  registry: Registry,
  controllers: () => Iterable<HoldController>,
): HoldMetrics {
  const svc = METRIC_LABELS.service;
  new Gauge({
    name: LB_METRICS.serviceState,
    help: 'Scale to zero: 1 for each service’s current state (awake, waking, sleeping).',
    labelNames: [svc, 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of controllers())
        for (const s of SERVICE_STATES) this.set({ [svc]: c.serviceName, state: s }, s === c.state ? 1 : 0);
    },
  });
  new Gauge({
    name: LB_METRICS.heldRequests,
    help: 'Requests held now for a sleeping or waking service.',
    labelNames: [svc],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of controllers()) this.set({ [svc]: c.serviceName }, c.held);
    },
  });
  const total = new Counter({
    name: LB_METRICS.heldTotal,
    help: 'Held requests by how they ended (released, timeout, overflow, client-gone, page).',
    labelNames: [svc, 'outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: LB_METRICS.holdDuration,
    help: 'Time from a request being held to its release to a replica.',
    labelNames: [svc],
    buckets: [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30],
    registers: [registry],
  });
  return { total, duration };
}

export type { Held };
