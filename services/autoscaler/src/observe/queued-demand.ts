// Pure: requests a service has waiting at the balancer, counted as demand for the concurrency
// metric (issue #26): its service queue, both requests waiting for a backend under its limit and
// requests held while it sleeps or wakes (one queue, one depth), each counted once. In-flight alone stops at the backends' limits, so
// a service with requests waiting would read "at target" while clients queue; with them,
// desired = ceil((in-flight + queued) / target per replica). The recording rule for concurrency
// (prometheus/rules/headroom.rules.yml) counts the same.
import type { BackendList } from '@headroom/shared';
import { serviceView } from './observer.js';

/** Requests waiting for `service` in the balancer's view: its queue's depth (held ones included), else its held requests. */
export function queuedDemand(list: BackendList | undefined, service: string): number {
  if (!list) return 0;
  const view = serviceView(list, service);
  const held = view?.held ?? 0;
  // GET /api/backends' `queue` is the queue of the service its `service` view describes (the
  // balancer's one service, or its default one beside `services[]`): ours only when that view is.
  const one = list.service;
  const queueIsOurs = one !== undefined && (one.name === service || view === one);
  const q = queueIsOurs ? list.queue : undefined;
  if (q === undefined) return held;
  // the hold is the same queue (its `held` says so): depth counts the held requests already; an
  // older balancer's depth did not
  return q.held !== undefined ? Math.max(q.depth, held) : held + q.depth;
}
