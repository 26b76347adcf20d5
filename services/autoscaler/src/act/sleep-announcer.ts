// Scale to zero, the balancer side of a sleep (issue #19, "no race"): before the last replicas
// drain, the balancer is told the service sleeps, so a request arriving from then on is held
// (and wakes us) instead of going to a draining replica or failing. If the sleep is then
// aborted (a stop failed, replicas remain), the balancer is told the service is awake again.
import type { Logger } from '@headroom/shared';
import type { BalancerClient } from '../clients/balancer-client.js';

export class SleepAnnouncer {
  constructor(
    private readonly balancer: BalancerClient,
    private readonly logger: Logger,
  ) {}

  /** True when the balancer now holds requests for the service; false: do not sleep. */
  async sleeping(reason: string, service?: string): Promise<boolean> {
    try {
      const ok = await this.balancer.setServiceState({
        state: 'sleeping',
        reason: reason.slice(0, 500),
        ...(service ? { service } : {}),
      });
      if (!ok)
        this.logger.warn(
          'the balancer has no PUT /api/service/state (older version): it cannot hold requests, so the service stays awake',
        );
      return ok;
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message },
        'could not announce the sleep to the balancer: staying awake',
      );
      return false;
    }
  }

  async awake(reason: string, service?: string): Promise<void> {
    try {
      await this.balancer.setServiceState({
        state: 'awake',
        reason: reason.slice(0, 500),
        ...(service ? { service } : {}),
      });
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message },
        'could not tell the balancer the service is awake again',
      );
    }
  }
}
