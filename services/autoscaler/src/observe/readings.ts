// Pure: a source's series + the replica census → the MetricReading the policy takes.
// Samples of replicas that are not ready are left out (they join through the fill rule);
// NaN/±Inf/negative and too-old samples are missing, never 0.
import type { MetricReading, ScaleMetric } from '../policy/policy-types.js';
import type { CensusReplica } from './replica-census.js';
import type { SeriesResult } from './series.js';

/** Labels a per-replica series may carry that name its container (name or id) or backend. */
const REPLICA_LABELS = [
  'replica',
  'container',
  'container_name',
  'name',
  'backend',
  'id',
  'instance',
] as const;

function matches(value: string, r: CensusReplica): boolean {
  const v = value.startsWith('/') ? value.slice(1) : value;
  if (v === r.name) return true;
  if (r.backendId !== undefined && v === r.backendId) return true;
  // Container ids appear full or shortened to 12 hex, sometimes as a cgroup path.
  if (r.id.length >= 12 && (v === r.id || v.endsWith(`/${r.id}`) || (v.length >= 12 && r.id.startsWith(v))))
    return true;
  return false;
}

export function findReplica(
  labels: Record<string, string>,
  replicas: readonly CensusReplica[],
): CensusReplica | undefined {
  for (const key of REPLICA_LABELS) {
    const value = labels[key];
    if (value === undefined || value === '') continue;
    const hit = replicas.find((r) => matches(value, r));
    if (hit) return hit;
  }
  return undefined;
}

/**
 * The per-replica values with `queued` spread evenly over them, so that their sum is in-flight +
 * queued (what the policy's ceil(current × mean / target) then scales on).
 */
export function spreadQueued(values: readonly number[], queued: number): number[] {
  if (!(queued > 0) || values.length === 0) return [...values];
  const share = queued / values.length;
  return values.map((v) => v + share);
}

export function toReading(
  metric: ScaleMetric,
  target: number,
  result: SeriesResult,
  replicas: readonly CensusReplica[],
  maxAgeMs: number,
): MetricReading {
  if (!result.ok) return { metric, target, values: [], missing: result.why };
  if (result.series.length === 0) return { metric, target, values: [], missing: 'empty' };
  const attributed = result.series.map((s) => ({ s, replica: findReplica(s.labels, replicas) }));
  const anyAttributed = attributed.some((a) => a.replica !== undefined);
  const values: number[] = [];
  let stale = 0;
  let bad = 0;
  for (const { s, replica } of attributed) {
    // When some series name our replicas, the others belong to containers that are gone.
    if (anyAttributed && replica === undefined) continue;
    if (replica !== undefined && !replica.ready) continue;
    if (s.ageMs !== undefined && s.ageMs > maxAgeMs) {
      stale++;
      continue;
    }
    if (!Number.isFinite(s.value) || s.value < 0) {
      bad++;
      continue;
    }
    values.push(s.value);
  }
  // queued requests count as demand, shared by the replicas that reported (issue #26)
  if (values.length > 0) return { metric, target, values: spreadQueued(values, result.queued ?? 0) };
  return { metric, target, values: [], missing: stale > 0 ? 'stale' : bad > 0 ? 'nan' : 'empty' };
}
