// Pure: a Prometheus /api/v1/query response body → series, or why not. Values stay as
// Prometheus sent them ("NaN", "+Inf" become NaN/Infinity); readings.ts treats them as missing.
import type { SeriesResult } from './series.js';

interface PromSample {
  metric?: Record<string, string>;
  value?: [number, string];
}

export function parseSampleValue(raw: unknown): number {
  if (typeof raw !== 'string') return Number.NaN;
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  const n = Number(raw);
  return raw.trim() === '' ? Number.NaN : n;
}

/** `nowSeconds`: the time the query was asked for, to age each sample's timestamp against. */
export function parseQueryResponse(body: unknown, nowSeconds?: number): SeriesResult {
  if (typeof body !== 'object' || body === null)
    return { ok: false, why: 'error', detail: 'response is not JSON object' };
  const b = body as {
    status?: unknown;
    data?: { resultType?: unknown; result?: unknown };
    error?: unknown;
    errorType?: unknown;
  };
  if (b.status !== 'success') {
    return {
      ok: false,
      why: 'error',
      detail: `prometheus: ${String(b.errorType ?? 'error')}: ${String(b.error ?? 'status not success')}`,
    };
  }
  const type = b.data?.resultType;
  const result = b.data?.result;
  if (type === 'scalar' && Array.isArray(result)) {
    return { ok: true, series: [{ labels: {}, value: parseSampleValue(result[1]) }] };
  }
  if (type !== 'vector' || !Array.isArray(result)) {
    return { ok: false, why: 'error', detail: `expected an instant vector, got ${String(type)}` };
  }
  const series = (result as PromSample[]).map((s) => {
    const ts = Array.isArray(s.value) ? Number(s.value[0]) : Number.NaN;
    return {
      labels: s.metric ?? {},
      value: Array.isArray(s.value) ? parseSampleValue(s.value[1]) : Number.NaN,
      ageMs:
        nowSeconds !== undefined && Number.isFinite(ts) ? Math.max(0, (nowSeconds - ts) * 1000) : undefined,
    };
  });
  return { ok: true, series };
}
