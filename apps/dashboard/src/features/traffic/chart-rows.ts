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
