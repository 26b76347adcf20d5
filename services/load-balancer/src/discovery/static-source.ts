// Static discovery: the BACKENDS list plus backends registered at run time through the
// admin API (how the local runtime and process-based setups add replicas).
import type { RouteLabels, StaticBackendEntry } from '@headroom/shared';
import { chooseHealthCheck, type HealthCheckDefaults } from '../model/health-check.js';
import { affinityToken } from '../model/short-hash.js';
import type { BackendSet, BackendSource, BackendSpec } from './backend-set.js';

export interface StaticRegistration {
  url: string;
  name?: string | undefined;
  service?: string | undefined;
  weight?: number | undefined;
  healthPath?: string | undefined;
  /** The routes of its service (BACKENDS `#host=…&path=…`, or the admin API's `routes`). */
  routes?: RouteLabels | undefined;
}

/** Stable id of a static backend: a short hash of its URL. */
export function staticId(url: string): string {
  return `s-${affinityToken(url.replace(/\/+$/, ''))}`;
}

export function staticSpec(reg: StaticRegistration, defaults: HealthCheckDefaults): BackendSpec {
  const url = reg.url.replace(/\/+$/, '');
  // HEALTH_PATH / HEALTH_STATUS are validated at start and a registration's path by its schema
  const chosen = chooseHealthCheck({ path: reg.healthPath }, defaults);
  const check = typeof chosen === 'string' ? { kind: 'tcp' as const } : chosen;
  return {
    id: staticId(url),
    url,
    name: reg.name ?? new URL(url).host,
    service: reg.service ?? '',
    routes: reg.routes ? [reg.routes] : undefined,
    source: 'static',
    healthPath: check.kind === 'http' ? check.path : undefined,
    healthStatus: check.kind === 'http' ? check.status : undefined,
    weight: reg.weight,
    sticky: { kind: 'none' },
  };
}

export class StaticSource implements BackendSource {
  private readonly specs = new Map<string, BackendSpec>();
  private publish: ((set: BackendSet) => void) | undefined;

  constructor(
    entries: readonly StaticBackendEntry[],
    /** HEALTH_PATH and HEALTH_STATUS; no path: TCP checks. */
    private readonly healthDefaults: HealthCheckDefaults = {},
  ) {
    for (const e of entries) this.add(e);
  }

  async start(publish: (set: BackendSet) => void): Promise<void> {
    this.publish = publish;
    publish(this.list());
  }

  async stop(): Promise<void> {
    this.publish = undefined;
  }

  list(): BackendSpec[] {
    return [...this.specs.values()];
  }

  add(reg: StaticRegistration): BackendSpec {
    const spec = staticSpec(reg, this.healthDefaults);
    this.specs.set(spec.id, spec);
    this.publish?.(this.list());
    return spec;
  }

  has(id: string): boolean {
    return this.specs.has(id);
  }

  remove(id: string): boolean {
    const ok = this.specs.delete(id);
    if (ok) this.publish?.(this.list());
    return ok;
  }
}
