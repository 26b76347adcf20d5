// Scale to zero (issue #19), the I/O half: decides that a request for a sleeping or waking
// service waits (or a browser gets the waiting page), asks the autoscaler to wake it, and
// tells the service queue when the service is awake. The waiting itself is the service's one
// queue (issue #26, proxy/admission.ts: cause `hold`, HOLD_TIMEOUT_MS, HOLD_MAX_REQUESTS,
// overflow and deadline 503s, client-gone removal, the metrics): its hand-off takes held
// requests, in arrival order, once the first health pass makes the service awake. The
// decisions are the pure service-state and wake-plan modules; this keeps the wake's timers.
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
import { Gauge, type Registry } from 'prom-client';
import { holdRetryAfterSeconds } from '../balancing/service-queue.js';
import type { Admission, ResumeUpgrade } from '../proxy/admission.js';
import { DEFAULT_SERVICE_NAME } from '../services/service-registry.js';
import {
  holds,
  initialStatus,
  nextStatus,
  SERVICE_REASONS,
  type ServiceEvent,
  type ServiceStatus,
  wantsWaitingPage,
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
export type { ResumeUpgrade };

/** What the hold needs of its service's queue (proxy/admission.ts). */
export type HoldQueue = Pick<
  Admission,
  'holdRequest' | 'holdUpgrade' | 'waiting' | 'dispatch' | 'takeHeld' | 'stopHeld' | 'waitingPageShown'
>;

export interface HoldSettings {
  /** HOLD_TIMEOUT_MS: the waiting page's Retry-After (the queue holds requests until it). */
  timeoutMs: number;
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
  /** The service's one queue: held requests wait there. */
  queue: HoldQueue;
  /** A registry of its own (one service); with several, createHoldMetrics once for all. */
  registry?: Registry;
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
  private readonly queue: HoldQueue;
  private idleAfterMs: number | null = null;
  private backends = 0;
  private calls: WakeCalls = NO_WAKE_CALLS;
  private wakeTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly fetchFn: typeof fetch;
  private readonly wake: WakeSettings;

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
    this.queue = deps.queue;
    if (deps.registry) createHoldMetrics(deps.registry, () => [this]);
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

  /**
   * Requests waiting for the wake: the `hold` entries of the service's queue while it holds.
   * Once it is awake they wait for a backend like any other (the queue's depth counts them),
   * as when the hold released them: the autoscaler reads `held` as wake demand (a floor of
   * replicas, no sleep), which a backlog draining on the woken replicas is not.
   */
  get held(): number {
    return this.holding ? this.queue.waiting('hold') : 0;
  }

  /**
   * How many backends the service has (any state), after each set. Before the first call it has
   * none: with hold-and-wake on, a request that arrives before anything is known is held.
   */
  setBackends(count: number): void {
    this.backends = count;
    this.holding = this.enabled && holds(this.status, count);
    // the last replica gone while requests are held for it: they need a new wake
    this.poolChanged();
  }

  /** Feeds the pool's size and the held count to the state machine (service-state.ts › strandedHeld). */
  private poolChanged(): void {
    if (this.enabled) this.event({ kind: 'pool', backends: this.backends, held: this.queue.waiting('hold') });
  }

  setIdleAfter(ms: number | null): void {
    this.idleAfterMs = ms;
  }

  view(): ServiceView {
    return {
      name: this.settings.serviceName,
      state: this.status.state,
      since: new Date(this.status.since).toISOString(),
      held: this.held,
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
    const released = after.state === 'awake' ? this.queue.waiting('hold') : 0;
    this.deps.logger.info(
      {
        service: this.settings.serviceName,
        from: before.state,
        to: after.state,
        code: after.reason,
        detail: after.detail,
        held: this.queue.waiting('hold'),
      },
      `${after.state}: ${this.describe(after, released)}`,
    );
    if (after.state === 'awake') {
      this.calls = NO_WAKE_CALLS;
      if (this.wakeTimer) clearTimeout(this.wakeTimer);
      this.wakeTimer = null;
      // the core marks the backend healthy right after it reports the transition: the queue's
      // hand-off takes the held requests on the next turn, when picks see it
      setImmediate(() => this.queue.dispatch());
      // awake with no replica (a sleep aborted after the last one stopped): held requests ask again
      this.poolChanged();
    } else if (after.reason === 'HeldWithoutBackend') {
      // the same wake path as a sleeping service's first held request (planWake, POST /api/wake)
      this.askWake();
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
      this.queue.waitingPageShown();
      writeWaitingPage(res, holdRetryAfterSeconds(this.settings.timeoutMs));
      return;
    }
    // the queue answers 503 itself when its depth is at HOLD_MAX_REQUESTS; the wake is asked
    // either way: the depth is shared, so a full queue may hold requests waiting at the limits
    // and none held (planWake rate-limits the calls)
    this.queue.holdRequest(req, res, resume);
    this.askWake();
  }

  /**
   * A WebSocket (any Upgrade) while `holding`: held like a request in the same queue (it wakes
   * the service), then tunnelled once awake; 503 with Retry-After on overflow or deadline.
   */
  holdUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, resume: ResumeUpgrade): void {
    // with the backend count, as hold() does: a service with none and no known state wakes for
    // an upgrade too (without it the upgrade was held, awake, and no wake was ever asked)
    this.event({ kind: 'request', backends: this.backends });
    this.queue.holdUpgrade(req, socket, head, resume);
    this.askWake();
  }

  /** This service lost its routes: every held request goes back to the proxy to be routed again. */
  rehome(): void {
    setImmediate(() => {
      for (const h of this.queue.takeHeld()) {
        if (h.res !== null) h.resume(h.req, h.res);
        else h.resumeUpgrade(h.req, h.socket, h.head);
      }
    });
  }

  /** `waiting`: at least this many wait (a browser shown the waiting page is not in the queue). */
  private askWake(waiting = 0): void {
    if (!this.enabled || this.status.state === 'awake' || this.wakeTimer) return;
    const d = planWake(this.calls, Math.max(waiting, this.held), this.now(), this.wake);
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
    const held = this.held;
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
    this.queue.stopHeld();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
  }
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

/**
 * The scale-to-zero series, once per registry: each service's state, and its held requests
 * (headroom_lb_held_requests: the `hold` part of headroom_lb_queue_depth, kept under its
 * name for dashboards that read it). How held requests end and how long they waited are the
 * queue's own series (proxy/admission.ts), with cause="hold".
 */
export function createHoldMetrics(registry: Registry, controllers: () => Iterable<HoldController>): void {
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
    help: 'Requests held now for a sleeping or waking service (headroom_lb_queue_depth{cause="hold"}).',
    labelNames: [svc],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of controllers()) this.set({ [svc]: c.serviceName }, c.held);
    },
  });
}
