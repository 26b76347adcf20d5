// One undici keep-alive Pool per backend, opened when a backend appears and closed once
// it is gone and its in-flight requests have finished.
import { Pool } from 'undici';

export interface PoolSettings {
  connections: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  bodyTimeoutMs: number;
}

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly settings: PoolSettings) {}

  get(id: string, url: string): Pool {
    let pool = this.pools.get(id);
    if (!pool) {
      pool = new Pool(url, {
        connections: this.settings.connections,
        connect: { timeout: this.settings.connectTimeoutMs },
        headersTimeout: this.settings.responseTimeoutMs,
        bodyTimeout: this.settings.bodyTimeoutMs,
        keepAliveTimeout: 30_000,
        pipelining: 1,
      });
      this.pools.set(id, pool);
    }
    return pool;
  }

  /** Closes a backend's pool: in-flight requests on it finish first (undici close semantics). */
  async close(id: string): Promise<void> {
    const pool = this.pools.get(id);
    if (!pool) return;
    this.pools.delete(id);
    await pool.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.pools.keys()].map((id) => this.close(id)));
  }
}
