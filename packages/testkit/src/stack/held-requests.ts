// Scale to zero: the balancer's counter of held requests (headroom_lb_held_requests_total), read
// from its /metrics for one service and one outcome, as the hold-and-wake tests assert it.
import { LB_METRICS, METRIC_LABELS } from '@headroom/shared';

/**
 * The held requests of `service` that ended with `outcome` (released, timeout, client-gone, …).
 * Only that service's series: another's (the default catch-all's, which may hold a first request
 * before the named service takes over its route) is never counted for it.
 */
export async function heldRequests(
  admin: string,
  service: string,
  outcome: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`, { headers })).text();
  const series = new RegExp(`^${LB_METRICS.heldTotal}\\{([^}]*)\\} (\\S+)$`, 'gm');
  let total = 0;
  for (const m of text.matchAll(series)) {
    const labels = m[1] ?? '';
    if (labels.includes(`outcome="${outcome}"`) && labels.includes(`${METRIC_LABELS.service}="${service}"`))
      total += Number(m[2]);
  }
  return total;
}
