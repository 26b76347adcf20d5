// Drain before stop: mark the replica draining at the balancer, then wait until it has no
// request in flight (or has left the balancer) or DRAIN_TIMEOUT_MS passed. The wait is one
// long-polled call (GET /api/backends/:id/drained) rather than a poll every 100 ms: alone,
// that poll was as fast as the balancer's default admin rate limit (600/min), so a long
// drain got 429, ended as "balancer unavailable" and the replica was stopped with requests
// in flight. A 429 (another client spending the budget) is waited out, not taken for an outage.
import type { Logger } from '@headroom/shared';
import { type BalancerClient, BalancerError } from '../clients/balancer-client.js';

export type DrainOutcome = 'drained' | 'timeout' | 'unknown' | 'balancer-unavailable';

/** Longest single wait asked of the balancer; a longer drain asks again. */
const MAX_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isRateLimited(err: unknown): err is BalancerError {
  return err instanceof BalancerError && err.statusCode === 429;
}

export class DrainClient {
  constructor(
    private readonly balancer: BalancerClient,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly pollMs = 100,
  ) {}

  async drain(backendId: string): Promise<DrainOutcome> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      try {
        const known = await this.balancer.drain(backendId);
        if (!known) return 'unknown';
        break;
      } catch (err) {
        if (isRateLimited(err) && Date.now() < deadline) {
          await this.waitOutRateLimit(err, backendId, deadline);
          continue;
        }
        // Stopping anyway is safe: the replica's own SIGTERM handling finishes in-flight work.
        this.logger.warn(
          { err: (err as Error).message, backendId },
          'drain: balancer unavailable, stopping without drain',
        );
        return 'balancer-unavailable';
      }
    }
    for (;;) {
      const left = deadline - Date.now();
      try {
        const r = await this.balancer.waitDrained(backendId, Math.min(Math.max(0, left), MAX_WAIT_MS));
        if (r === undefined) return await this.pollDrained(backendId, deadline);
        if (r.drained || !r.present) return 'drained';
      } catch (err) {
        if (!isRateLimited(err)) return this.lost(err, backendId);
        if (Date.now() < deadline) await this.waitOutRateLimit(err, backendId, deadline);
      }
      if (Date.now() >= deadline) {
        this.logger.warn(
          { backendId, timeoutMs: this.timeoutMs },
          'drain: timed out with requests in flight',
        );
        return 'timeout';
      }
    }
  }

  /** Balancers without the wait endpoint: poll the backend list. */
  private async pollDrained(backendId: string, deadline: number): Promise<DrainOutcome> {
    for (;;) {
      try {
        const backend = (await this.balancer.backends()).find((b) => b.id === backendId);
        if (!backend || backend.inFlight === 0) return 'drained';
      } catch (err) {
        if (!isRateLimited(err)) return this.lost(err, backendId);
        if (Date.now() < deadline) await this.waitOutRateLimit(err, backendId, deadline);
      }
      if (Date.now() >= deadline) return 'timeout';
      await sleep(this.pollMs);
    }
  }

  private async waitOutRateLimit(err: BalancerError, backendId: string, deadline: number): Promise<void> {
    const wait = Math.min(
      Math.max(this.pollMs, (err.retryAfterS ?? 1) * 1000),
      Math.max(0, deadline - Date.now()),
    );
    this.logger.info({ backendId, retryInMs: wait }, 'drain: balancer admin rate limit reached; waiting');
    await sleep(wait);
  }

  private lost(err: unknown, backendId: string): DrainOutcome {
    this.logger.warn({ err: (err as Error).message, backendId }, 'drain: lost the balancer while waiting');
    return 'balancer-unavailable';
  }
}
