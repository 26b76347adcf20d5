// Adapter: Prometheus' instant-query HTTP API over undici. Every failure (connection,
// timeout, HTTP error, bad body) becomes a SeriesResult with a reason, never a throw.
import { request } from 'undici';
import { parseQueryResponse } from '../observe/parse-vector.js';
import type { Series, SeriesResult } from '../observe/series.js';

export interface PrometheusClientOptions {
  url: string;
  timeoutMs?: number;
}

export class PrometheusClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(opts: PrometheusClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 3_000;
  }

  async query(promql: string): Promise<SeriesResult> {
    const url = `${this.base}/api/v1/query?query=${encodeURIComponent(promql)}`;
    let status: number;
    let body: unknown;
    try {
      const res = await request(url, {
        method: 'GET',
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.statusCode;
      const text = await res.body.text();
      try {
        body = JSON.parse(text);
      } catch {
        return {
          ok: false,
          why: 'error',
          detail: `prometheus answered ${status} with non-JSON: ${text.slice(0, 120)}`,
        };
      }
    } catch (err) {
      return {
        ok: false,
        why: 'unreachable',
        detail: `prometheus unreachable at ${this.base}: ${(err as Error).message}`,
      };
    }
    return parseQueryResponse(body);
  }

  /**
   * The query's series with each sample's own age: `timestamp(q)` gives the time of the
   * scrape (or rule evaluation) behind each value, which an instant query alone hides.
   */
  async queryWithAge(promql: string, nowMs: number): Promise<SeriesResult> {
    const [values, stamps] = await Promise.all([this.query(promql), this.query(`timestamp(${promql})`)]);
    if (!values.ok) return values;
    if (!stamps.ok) return values;
    const ageByKey = new Map<string, number>();
    for (const s of stamps.series) {
      if (Number.isFinite(s.value)) ageByKey.set(labelKey(s.labels), Math.max(0, nowMs - s.value * 1000));
    }
    const series: Series[] = values.series.map((s) => ({ ...s, ageMs: ageByKey.get(labelKey(s.labels)) }));
    return { ok: true, series };
  }
}

/** Labels without the metric name (timestamp() drops it), in a stable order. */
export function labelKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .filter((k) => k !== '__name__')
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}
