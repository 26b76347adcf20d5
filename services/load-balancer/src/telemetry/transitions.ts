// Backend state changes, nothing silent: each one is one log line with its reason (warn
// when it takes capacity away unexpectedly: ejected, unhealthy, a drain that timed out with
// requests left), one increment of headroom_lb_backend_transitions_total{backend,
// backend_name,to,reason} and one event in a bounded list that GET /api/events serves
// (the dashboard's timeline). The core reports its own transitions through onTransition;
// main.ts's drain flow reports drained and removed the same way.
import type { BackendEvent, Logger } from '@headroom/shared';
import type { BackendTransition } from '../balancing/balancer-core.js';
import type { LbMetrics } from './metrics.js';

/** Events kept for GET /api/events; older ones fall off (the log and the counter keep the rest). */
export const EVENTS_KEPT = 500;

const WARN_CODES = new Set(['health-check-failed', 'consecutive-failures', 'drain-timeout']);

export class TransitionLog {
  private readonly events: BackendEvent[] = [];
  private seq = 0;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: Pick<LbMetrics, 'transitions' | 'labelsOf'>,
    private readonly kept = EVENTS_KEPT,
  ) {}

  readonly record = (t: BackendTransition): void => {
    const event: BackendEvent = {
      seq: ++this.seq,
      at: t.at,
      id: t.id,
      name: t.name,
      from: t.from,
      to: t.to,
      code: t.code,
      reason: t.reason,
    };
    this.events.push(event);
    if (this.events.length > this.kept) this.events.shift();
    this.metrics.transitions.inc({
      backend: t.id,
      backend_name: t.name,
      service: this.metrics.labelsOf.get(t.id)?.service ?? '',
      to: t.to,
      reason: t.code,
    });
    const fields = {
      backend: t.id,
      backend_name: t.name,
      from: t.from,
      to: t.to,
      code: t.code,
      reason: t.reason,
    };
    if (WARN_CODES.has(t.code) || t.to === 'ejected')
      this.logger.warn(fields, `backend ${t.to}: ${t.reason}`);
    else this.logger.info(fields, `backend ${t.to}: ${t.reason}`);
  };

  /** Events after `since` (a seq), oldest first. */
  list(since = 0): BackendEvent[] {
    if (since <= 0) return [...this.events];
    return this.events.filter((e) => e.seq > since);
  }
}
