// Hands one published BackendSet, as the core's whole diff (added, removed, changed), to
// everything that keeps per-backend state outside the core: the upstream pools, the
// health prober and the resource source. main.ts calls it for every set; tests drive it
// directly with sets that a static source cannot produce (a new address under one id).
import type { Logger } from '@headroom/shared';
import type { BalancerCore } from '../balancing/balancer-core.js';
import type { HttpProber } from '../health/http-prober.js';
import type { BackendSet, BackendSpec } from '../model/backend-spec.js';
import type { UpstreamPools } from '../proxy/upstream-pools.js';
import type { ResourceSource } from '../resources/resource-sample.js';

export interface SetConsumers {
  core: Pick<BalancerCore, 'setBackends'>;
  pools: UpstreamPools;
  prober: Pick<HttpProber, 'update'>;
  resources: ResourceSource;
  logger: Logger;
  /** Called once a removed backend's pool has closed (its in-flight requests are done). */
  onRemoved?: (id: string) => void;
}

export interface BackendDiff {
  added: string[];
  removed: string[];
  changed: string[];
}

export function applyBackendSet(
  set: BackendSet,
  previous: ReadonlyMap<string, BackendSpec>,
  now: number,
  c: SetConsumers,
): BackendDiff {
  const diff = c.core.setBackends(set, now);
  const byId = new Map(set.map((s) => [s.id, s]));
  for (const id of diff.changed) {
    const spec = byId.get(id);
    if (spec === undefined) continue;
    const before = previous.get(id);
    // the old pool finishes its in-flight requests on the old address; new ones dial the new one
    const retargeted = c.pools.retarget(id, spec.url);
    c.logger.info(
      {
        backend: id,
        backend_name: spec.name,
        from: before?.url,
        to: spec.url,
        healthPath: spec.healthPath,
        retargeted,
      },
      before !== undefined && before.url !== spec.url ? 'backend address changed' : 'backend spec changed',
    );
  }
  c.prober.update(set, diff.changed);
  c.resources.update(set);
  // undici's close lets in-flight requests on a removed backend finish first
  for (const id of diff.removed) void c.pools.close(id).then(() => c.onRemoved?.(id));
  if (diff.added.length > 0 || diff.removed.length > 0)
    c.logger.info({ added: diff.added, removed: diff.removed, backends: set.length }, 'backends changed');
  return diff;
}
