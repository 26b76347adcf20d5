// Scale to zero: how a service's held requests ended, read from the balancer's /metrics as the
// hold-and-wake tests assert it. The hold is the service queue (issue #26): `released` is the
// held requests a backend took (the queue's wait histogram count, cause="hold"); any other
// outcome is the held requests shed for that reason (hold-timeout, full, client-gone, shutdown,
// waiting-page).
import { LB_METRICS, METRIC_LABELS } from '@headroom/shared';

/**
 * The held requests of `service` that ended with `outcome` (released, hold-timeout, client-gone, …).
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
  const name = outcome === 'released' ? `${LB_METRICS.queueWait}_count` : LB_METRICS.queueShed;
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) {
    const labels = m[1] ?? '';
    if (
      labels.includes('cause="hold"') &&
      (outcome === 'released' || labels.includes(`reason="${outcome}"`)) &&
      labels.includes(`${METRIC_LABELS.service}="${service}"`)
    )
      total += Number(m[2]);
  }
  return total;
}
