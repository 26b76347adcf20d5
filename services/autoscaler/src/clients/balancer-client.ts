// Adapter: the balancer's admin API (GET /api/backends, drain, register, delete). Used to
// drain before stopping, to register local replicas, as a readiness view, and as the CPU
// source of the local runtime when there is no Prometheus.
import {
  apiErrorSchema,
  BALANCER_API_CODES,
  type BackendList,
  type BackendView,
  backendListSchema,
  type DrainWaitResponse,
  drainWaitResponseSchema,
  type ServiceStateBody,
} from '@headroom/shared';
import { request } from 'undici';

export interface BalancerClientOptions {
  url: string;
  token?: string | undefined;
  timeoutMs?: number;
}

export class BalancerError extends Error {
  constructor(
    message: string,
    readonly statusCode?: number,
    /** The API's error code (LB_ERR_…), when the body had one. */
    readonly code?: string,
    /** Seconds from a 429's Retry-After header. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'BalancerError';
  }
}

/** A 429 from the admin rate limit, as a BalancerError (Retry-After kept). */
function rateLimited(path: string, res: { status: number; json: unknown; retryAfter: string | undefined }) {
  const retry = Number(res.retryAfter);
  return new BalancerError(
    `${path} answered 429 (admin rate limit)`,
    429,
    BALANCER_API_CODES.rateLimited,
    Number.isFinite(retry) && retry >= 0 ? retry : undefined,
  );
}

export class BalancerClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(opts: BalancerClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.headers = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
    this.timeoutMs = opts.timeoutMs ?? 3_000;
  }

  private async call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    timeoutMs = this.timeoutMs,
  ) {
    const headers: Record<string, string> = { ...this.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await request(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const retryAfter = res.headers['retry-after'];
      const text = await res.body.text();
      let json: unknown;
      try {
        json = text.length > 0 ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return {
        status: res.statusCode,
        json,
        text,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } catch (err) {
      throw new BalancerError(`balancer unreachable at ${this.base}: ${(err as Error).message}`);
    }
  }

  async backends(): Promise<BackendView[]> {
    return (await this.overview()).backends;
  }

  /** GET /api/backends whole: the backends and, from a balancer with scale to zero, `service`. */
  async overview(): Promise<BackendList> {
    const res = await this.call('GET', '/api/backends');
    if (res.status === 429) throw rateLimited('GET /api/backends', res);
    if (res.status !== 200) throw new BalancerError(`GET /api/backends answered ${res.status}`, res.status);
    const parsed = backendListSchema.safeParse(res.json);
    if (!parsed.success)
      throw new BalancerError(`GET /api/backends: unexpected body: ${parsed.error.message.slice(0, 200)}`);
    return parsed.data;
  }

  /**
   * Waits until a draining backend has nothing in flight, has left, or `waitMs` passed: one
   * long-polled call (GET /api/backends/:id/drained) instead of a poll every 100 ms, which a
   * long drain would run into the admin rate limit with. `undefined` when the balancer has no
   * such endpoint (an older version): the caller polls GET /api/backends instead.
   */
  async waitDrained(id: string, waitMs: number): Promise<DrainWaitResponse | undefined> {
    const path = `/api/backends/${encodeURIComponent(id)}/drained?timeoutMs=${Math.max(0, Math.round(waitMs))}`;
    const res = await this.call('GET', path, undefined, waitMs + this.timeoutMs);
    if (res.status === 429) throw rateLimited('GET /drained', res);
    if (res.status === 404) {
      const code = apiErrorSchema.safeParse(res.json).data?.code;
      if (code === BALANCER_API_CODES.unknownBackend)
        return { id, drained: true, inFlight: 0, present: false };
      return undefined;
    }
    if (res.status !== 200)
      throw new BalancerError(`GET /drained answered ${res.status}: ${res.text.slice(0, 200)}`, res.status);
    const parsed = drainWaitResponseSchema.safeParse(res.json);
    if (!parsed.success)
      throw new BalancerError(`GET /drained: unexpected body: ${parsed.error.message.slice(0, 200)}`);
    return parsed.data;
  }

  /** Marks a backend draining; false when the balancer does not know it (nothing to drain). */
  async drain(id: string): Promise<boolean> {
    const res = await this.call('POST', `/api/backends/${encodeURIComponent(id)}/drain`, {});
    if (res.status === 404) return false;
    if (res.status === 429) throw rateLimited(`drain ${id}`, res);
    if (res.status >= 300)
      throw new BalancerError(`drain ${id} answered ${res.status}: ${res.text.slice(0, 200)}`, res.status);
    return true;
  }

  /** Takes a draining backend back into rotation; false when the balancer does not know it. */
  async undrain(id: string): Promise<boolean> {
    const res = await this.call('POST', `/api/backends/${encodeURIComponent(id)}/undrain`, {});
    if (res.status === 404) return false;
    if (res.status >= 300)
      throw new BalancerError(`undrain ${id} answered ${res.status}: ${res.text.slice(0, 200)}`, res.status);
    return true;
  }

  /** Registers a backend (static discovery); returns the id the balancer gave it. */
  async register(body: { url: string; name: string; service: string }): Promise<string> {
    const res = await this.call('POST', '/api/backends', body);
    if (res.status >= 300)
      throw new BalancerError(
        `register ${body.url} answered ${res.status}: ${res.text.slice(0, 200)}`,
        res.status,
      );
    const id =
      (res.json as { id?: unknown; backend?: { id?: unknown } } | undefined)?.id ??
      (res.json as { backend?: { id?: unknown } })?.backend?.id;
    if (typeof id === 'string') return id;
    const list = await this.backends();
    const found = list.find((b) => b.url === body.url);
    if (!found) throw new BalancerError(`registered ${body.url} but the balancer does not list it`);
    return found.id;
  }

  /**
   * PUT /api/service/state. False when the balancer has no such endpoint (an older version,
   * 404 without a backend error): it cannot hold requests, so the caller must not sleep.
   */
  async setServiceState(body: ServiceStateBody): Promise<boolean> {
    const res = await this.call('PUT', '/api/service/state', body);
    if (res.status === 404) return false;
    if (res.status === 429) throw rateLimited('PUT /api/service/state', res);
    if (res.status >= 300)
      throw new BalancerError(
        `PUT /api/service/state answered ${res.status}: ${res.text.slice(0, 200)}`,
        res.status,
      );
    return true;
  }

  async remove(id: string): Promise<void> {
    const res = await this.call('DELETE', `/api/backends/${encodeURIComponent(id)}`);
    if (res.status >= 300 && res.status !== 404)
      throw new BalancerError(`delete ${id} answered ${res.status}`, res.status);
  }
}
