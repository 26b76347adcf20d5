// Pure: requests a service has waiting at the balancer, counted as demand for the concurrency
// metric (issue #26): its service queue (requests waiting for a backend under its limit) and its
// held requests (a sleeping or waking service). In-flight alone stops at the backends' limits, so
// a service with requests waiting would read "at target" while clients queue; with them,
// desired = ceil((in-flight + queued) / target per replica). The recording rule for concurrency
// (prometheus/rules/headroom.rules.yml) counts the same.
import type { BackendList } from '@headroom/shared';
import { serviceView } from './observer.js';

/** Requests waiting for `service` in the balancer's view: its held requests plus its queue's depth. */
export function queuedDemand(list: BackendList | undefined, service: string): number {
  if (!list) return 0;
  const view = serviceView(list, service);
  const held = view?.held ?? 0;
  // GET /api/backends' `queue` is the queue of the service its `service` view describes (the
  // balancer's one service, or its default one beside `services[]`): ours only when that view is.
  const one = list.service;
  const queueIsOurs = one !== undefined && (one.name === service || view === one);
  const depth = queueIsOurs ? (list.queue?.depth ?? 0) : 0;
  return held + depth;
}
