// Drain before stop: mark the replica draining at the balancer, then wait until it has no
// request in flight (or has left the balancer) or DRAIN_TIMEOUT_MS passed.
import type { Logger } from '@headroom/shared';
import type { BalancerClient } from '../observe/balancer-client.js';

export type DrainOutcome = 'drained' | 'timeout' | 'unknown' | 'balancer-unavailable';

export class DrainClient {
  constructor(
    private readonly balancer: BalancerClient,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly pollMs = 100,
  ) {}

  async drain(backendId: string): Promise<DrainOutcome> {
    try {
      const known = await this.balancer.drain(backendId);
      if (!known) return 'unknown';
    } catch (err) {
      // Stopping anyway is safe: the replica's own SIGTERM handling finishes in-flight work.
      this.logger.warn(
        { err: (err as Error).message, backendId },
        'drain: balancer unavailable, stopping without drain',
      );
      return 'balancer-unavailable';
    }
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        const backend = (await this.balancer.backends()).find((b) => b.id === backendId);
        if (!backend || backend.inFlight === 0) return 'drained';
      } catch (err) {
        this.logger.warn(
          { err: (err as Error).message, backendId },
          'drain: lost the balancer while waiting',
        );
        return 'balancer-unavailable';
      }
      if (Date.now() >= deadline) return 'timeout';
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }
}
