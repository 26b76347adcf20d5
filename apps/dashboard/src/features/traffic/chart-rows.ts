// Turns the balancer's per-second history into flat recharts rows: one column per
// backend and measure, and the seconds at which the balancing mode changed.
import type { BalancerMode, HistoryPoint } from '@headroom/shared/contracts';
import { clockTime } from '../../format/numbers';

export type ChartRow = Record<string, number | string | null>;

export interface ChartSeries {
  /** Backend ids in order of first appearance, so colours stay put as backends come and go. */
  ids: string[];
  names: Record<string, string>;
  rows: ChartRow[];
  modeChanges: Array<{ t: string; mode: BalancerMode }>;
}

/** Per-backend measures charted over time; each becomes a `<measure>:<id>` column. */
export const BACKEND_MEASURES = ['rps', 'cpu', 'share', 'weight'] as const;
export type BackendMeasure = (typeof BACKEND_MEASURES)[number];

const tenth = (v: number) => Math.round(v * 10) / 10;

export function chartSeries(points: readonly HistoryPoint[]): ChartSeries {
  const ids: string[] = [];
  const names: Record<string, string> = {};
  for (const p of points) {
    for (const [id, b] of Object.entries(p.backends)) {
      if (names[id] === undefined) ids.push(id);
      names[id] = b.name;
    }
  }
  const modeChanges: ChartSeries['modeChanges'] = [];
  const rows = points.map((p, i) => {
    const t = clockTime(p.t);
    const previous = points[i - 1];
    if (previous && previous.mode !== p.mode) modeChanges.push({ t, mode: p.mode });
    const row: ChartRow = { t, rps: tenth(p.rps), errors: tenth(p.errors), p50: p.p50, p99: p.p99 };
    for (const id of ids) {
      const b = p.backends[id];
      // A backend absent from a second is a gap in its line, not a zero.
      row[`rps:${id}`] = b ? tenth(b.rps) : null;
      row[`cpu:${id}`] = b && b.cpu !== null ? tenth(b.cpu * 100) : null;
      row[`share:${id}`] = b ? tenth(b.share * 100) : null;
      row[`weight:${id}`] = b ? Math.round(b.effectiveWeight * 100) / 100 : null;
    }
    return row;
  });
  return { ids, names, rows, modeChanges };
}

/**
 * The latency chart's "no data" note: latency is measured on answered requests only, so a
 * history whose seconds carry no latency (only immediate 503s, or no traffic) says so instead
 * of drawing a line. null when at least one second has a latency.
 */
export function latencyNote(points: readonly HistoryPoint[]): string | null {
  if (points.some((p) => p.p50 !== null || p.p99 !== null)) return null;
  return points.some((p) => p.rps > 0)
    ? 'No data: no request was answered by a backend yet (latency counts answered requests only).'
    : 'No data: no traffic yet.';
}
