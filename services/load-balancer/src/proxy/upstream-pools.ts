// One undici keep-alive Pool per backend, opened when a backend appears and closed once
// it is gone and its in-flight requests have finished. A pool dials one origin for its
// whole life, so a backend whose address changes under the same id (a coalesced re-list,
// an IP change after a network reconnect, a resync after an engine outage) gets a new
// pool: the old one is closed gracefully, its in-flight requests finish on the old address.
import { Pool } from 'undici';

export interface PoolSettings {
  connections: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  bodyTimeoutMs: number;
  /**
   * Longest a closing pool (removed backend) may keep its in-flight requests
   * (DRAIN_TIMEOUT_MS); then they are cut, so a backend that never answers cannot hold its
   * pool, and its metric series, forever. Unbounded when absent.
   */
  closeTimeoutMs?: number;
}

interface Entry {
  url: string;
  pool: Pool;
}

export class UpstreamPools {
  private readonly pools = new Map<string, Entry>();

  constructor(private readonly settings: PoolSettings) {}

  /**
   * The pool of backend `id` dialling `url`. `url` is the pick's, so even a caller that
   * missed a diff never dials a stale address (one string compare: the same reference
   * while the spec is unchanged).
   */
  get(id: string, url: string): Pool {
    const entry = this.pools.get(id);
    if (entry !== undefined && entry.url === url) return entry.pool;
    if (entry !== undefined) void this.retire(entry);
    const pool = new Pool(url, {
      connections: this.settings.connections,
      connect: { timeout: this.settings.connectTimeoutMs },
      headersTimeout: this.settings.responseTimeoutMs,
      bodyTimeout: this.settings.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
      pipelining: 1,
    });
    this.pools.set(id, { url, pool });
    return pool;
  }

  /** Origin the pool of `id` dials, if it has one. */
  urlOf(id: string): string | undefined {
    return this.pools.get(id)?.url;
  }

  /**
   * A backend whose address changed: its pool is retired now (in-flight requests finish on
   * the old address) and the next request opens one to `url`.
   */
  retarget(id: string, url: string): boolean {
    const entry = this.pools.get(id);
    if (entry === undefined || entry.url === url) return false;
    this.pools.delete(id);
    void this.retire(entry);
    return true;
  }

  private async retire(entry: Entry): Promise<void> {
    const closing = entry.pool.close().catch(() => undefined);
    const limit = this.settings.closeTimeoutMs;
    if (limit === undefined) return closing;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), limit);
      timer.unref();
    });
    if ((await Promise.race([closing, expired])) === 'expired')
      await entry.pool.destroy(new Error('backend removed: drain timeout passed')).catch(() => undefined);
    clearTimeout(timer);
  }

  /** Closes a backend's pool: in-flight requests on it finish first (undici close semantics). */
  async close(id: string): Promise<void> {
    const entry = this.pools.get(id);
    if (!entry) return;
    this.pools.delete(id);
    await this.retire(entry);
  }

  /** Cuts a backend's in-flight requests now (a drain that timed out): their clients get 502. */
  async cut(id: string, why: string): Promise<void> {
    const entry = this.pools.get(id);
    if (!entry) return;
    this.pools.delete(id);
    await entry.pool.destroy(new Error(why)).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.pools.keys()].map((id) => this.close(id)));
  }
}
