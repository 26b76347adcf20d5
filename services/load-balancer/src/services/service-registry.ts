// Services: every lb.service value is a unit with its own balancer (pool, mode, weights,
// health path, stickiness, slow start) and its own sleep state and hold queue. The registry
// splits each published backend set by service, keeps one unit per service, rebuilds the
// route table from the services' route labels, and answers the by-id calls (health, drain,
// weight, metrics) by handing them to the backend's own unit. No I/O of its own.
//
// A service's routes are its backends' (lb.host, lb.path); a service none of whose backends
// names one is the catch-all (any host, '/'), so a one-service set-up works as before. While
// a service has no backend (asleep, restarting) its last known routes stay, so its requests
// are held and wake it instead of getting a 404. A balancer that knows no service at all
// still has the default one (LB_SERVICE, else unlabelled) as its catch-all: 503 (or hold),
// as before routing existed.
import type { BalancerMode, Logger, RouteLabels } from '@headroom/shared';
import type { Balancer } from '../balancing/balancer.js';
import type { BackendRuntime, BackendTransition } from '../balancing/balancer-core.js';
import type { HoldController } from '../hold/hold-controller.js';
import type { BackendSet, BackendSpec } from '../model/backend-spec.js';
import type { Admission } from '../proxy/admission.js';
import {
  buildRouteTable,
  EMPTY_TABLE,
  type Route,
  type RouteRule,
  type RouteTable,
  serviceRules,
} from '../routing/route-table.js';

export interface ServiceUnit {
  /** lb.service value ('' when unlabelled: shown as "default"). */
  readonly key: string;
  readonly core: Balancer;
  readonly hold: HoldController;
  /**
   * lb.tls.redirect=true on any of its backends (kept while it has none, like its routes):
   * its plain-HTTP requests get a 308 to https. Set by the registry; read on the hot path.
   */
  tlsRedirect?: boolean;
  /** Its one queue (issue #26): requests wait here at the limits and while it sleeps or wakes. */
  readonly queue: Admission;
}

/** '' (no lb.service) is shown, and addressed in the admin API, as "default". */
export const DEFAULT_SERVICE_NAME = 'default';

export function displayName(key: string): string {
  return key === '' ? DEFAULT_SERVICE_NAME : key;
}

export interface ServiceFactory {
  /** Builds a unit; `onTransition` must reach the registry (health passes release held requests). */
  (key: string, mode: BalancerMode): ServiceUnit;
}

interface Entry {
  unit: ServiceUnit;
  backends: BackendSpec[];
  /** The rules in force for it: from its backends, else the last known ones. */
  rules: RouteRule[] | undefined;
}

function rulesOf(key: string, backends: readonly BackendSpec[]): RouteRule[] {
  const rules: RouteRule[] = [];
  for (const b of backends) {
    for (const r of b.routes ?? []) {
      if (r.hosts.length === 0 && r.path === undefined) continue;
      rules.push(...serviceRules(key, r.hosts, r.path, r.strip));
    }
  }
  return rules.length > 0 ? rules : serviceRules(key, [], undefined, false);
}

export class ServiceRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly byBackend = new Map<string, Entry>();
  private currentTable: RouteTable = EMPTY_TABLE;
  /** Conflicts already logged (`host path kept dropped`): each is logged once, not per set. */
  private readonly logged = new Set<string>();
  private defaultMode: BalancerMode;

  constructor(
    private readonly create: ServiceFactory,
    private readonly logger: Logger,
    mode: BalancerMode,
    /** LB_SERVICE, else '': the unit that exists from the start. */
    readonly defaultKey: string,
  ) {
    this.defaultMode = mode;
    this.ensure(defaultKey);
    this.rebuild();
  }

  get table(): RouteTable {
    return this.currentTable;
  }

  /** Hot path: the route for a request. */
  route(host: string | undefined, url: string): Route | undefined {
    return this.currentTable.lookup(host, url);
  }

  /** Hot path: the unit a route names. */
  unitOf(route: Route): ServiceUnit | undefined {
    return this.entries.get(route.service)?.unit;
  }

  unit(key: string): ServiceUnit | undefined {
    return this.entries.get(key)?.unit;
  }

  /**
   * The service a caller means when it names none (an autoscaler of one service, GET
   * /api/backends without ?service=): LB_SERVICE, else the unlabelled one while it has backends
   * or is alone, else the only named service.
   */
  defaultUnit(): ServiceUnit {
    const own = this.entries.get(this.defaultKey)!;
    if (this.defaultKey !== '' || own.backends.length > 0) return own.unit;
    const others = [...this.entries.values()].filter((e) => e !== own);
    return others.length === 1 ? others[0]!.unit : own.unit;
  }

  /** By admin name ("default" is the unlabelled service). */
  byName(name: string): ServiceUnit | undefined {
    return (
      this.entries.get(name)?.unit ?? (name === DEFAULT_SERVICE_NAME ? this.entries.get('')?.unit : undefined)
    );
  }

  units(): ServiceUnit[] {
    return [...this.entries.values()].map((e) => e.unit);
  }

  /** The unit of a backend id (for the core's transitions and by-id calls). */
  unitOfBackend(id: string): ServiceUnit | undefined {
    return this.byBackend.get(id)?.unit;
  }

  backendCount(key: string): number {
    return this.entries.get(key)?.backends.length ?? 0;
  }

  /** The routes a service answers now. */
  routesOf(key: string): Route[] {
    return this.currentTable.routes.filter((r) => r.service === key);
  }

  private ensure(key: string): Entry {
    let e = this.entries.get(key);
    if (e === undefined) {
      e = { unit: this.create(key, this.defaultMode), backends: [], rules: undefined };
      this.entries.set(key, e);
    }
    return e;
  }

  /**
   * A service seen without a running backend (its stopped containers, a Swarm service at 0):
   * it gets a unit, and its routes when it has none from backends.
   */
  declare(key: string, routes: readonly RouteLabels[] | undefined): ServiceUnit {
    const e = this.ensure(key);
    if (e.backends.length === 0 && routes !== undefined && e.rules === undefined) {
      e.rules = rulesOf(key, [{ routes } as BackendSpec]);
      e.unit.tlsRedirect = routes.some((r) => r.tlsRedirect === true);
      this.rebuild();
    }
    return e.unit;
  }

  /**
   * A service an autoscaler names in PUT /api/service/state (its sleep, before any of its
   * backends was seen). When the balancer knows no route of any service yet and has no
   * LB_SERVICE, this is a one-service set-up whose replicas will carry that name: the named
   * service takes the catch-all from the unnamed default at once, so its requests are held by
   * (and wake) the service that sleeps, instead of a second, unnamed service that would stay
   * "waking" after handing them over.
   */
  announced(key: string): ServiceUnit {
    const e = this.ensure(key);
    if (this.defaultKey !== '' || key === '' || e.rules !== undefined) return e.unit;
    for (const other of this.entries.values()) if (other.rules !== undefined) return e.unit;
    if (this.entries.get('')!.backends.length > 0) return e.unit;
    e.rules = serviceRules(key, [], undefined, false);
    this.rebuild();
    return e.unit;
  }

  /** Splits the set by service; every unit gets its part. Returns the union of the diffs. */
  setBackends(set: BackendSet, now: number): { added: string[]; removed: string[]; changed: string[] } {
    const parts = new Map<string, BackendSpec[]>();
    const seen = new Set<string>();
    for (const spec of set) {
      if (seen.has(spec.id)) continue;
      seen.add(spec.id);
      let part = parts.get(spec.service);
      if (part === undefined) {
        part = [];
        parts.set(spec.service, part);
      }
      part.push(spec);
    }
    for (const key of parts.keys()) this.ensure(key);
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    this.byBackend.clear();
    for (const [key, e] of this.entries) {
      const part = parts.get(key) ?? [];
      // a backend that moved to another service leaves this unit and joins that one
      const d = e.unit.core.setBackends(part, now);
      e.backends = part;
      if (part.length > 0) {
        e.rules = rulesOf(key, part);
        e.unit.tlsRedirect = part.some((b) => b.routes?.some((r) => r.tlsRedirect === true) === true);
      }
      for (const s of part) this.byBackend.set(s.id, e);
      added.push(...d.added);
      removed.push(...d.removed);
      changed.push(...d.changed);
    }
    this.rebuild();
    // a backend that changed service is in both lists: for the pools it stays
    const addedSet = new Set(added);
    const moved = removed.filter((id) => addedSet.has(id));
    if (moved.length === 0) return { added, removed, changed };
    const m = new Set(moved);
    return {
      added: added.filter((id) => !m.has(id)),
      removed: removed.filter((id) => !m.has(id)),
      changed: [...changed, ...moved],
    };
  }

  private rebuild(): void {
    const rules: RouteRule[] = [];
    let known = 0;
    for (const e of this.entries.values()) if (e.rules !== undefined) known++;
    for (const [key, e] of this.entries) {
      if (e.rules !== undefined) rules.push(...e.rules);
      // nothing known yet: the default service is the catch-all (503 or hold, as before routes)
      else if (known === 0 && key === this.defaultKey) rules.push(...serviceRules(key, [], undefined, false));
    }
    const { table, conflicts } = buildRouteTable(rules, this.currentTable);
    this.currentTable = table;
    // a service left without a route (the default catch-all once a named service appears)
    // hands its held requests back to the proxy, which routes them again
    const owners = new Set(table.routes.map((r) => r.service));
    for (const [key, e] of this.entries)
      if (!owners.has(key) && e.unit.queue.waiting('hold') > 0) e.unit.hold.rehome();
    for (const c of conflicts) {
      const id = `${c.host} ${c.path} ${c.kept} ${c.dropped}`;
      if (this.logged.has(id)) continue;
      this.logged.add(id);
      this.logger.error(
        { host: c.host || '*', path: c.path, kept: displayName(c.kept), dropped: displayName(c.dropped) },
        `route conflict: services "${displayName(c.kept)}" and "${displayName(c.dropped)}" both claim host ${c.host || '(any)'} path ${c.path}; "${displayName(c.kept)}" keeps it`,
      );
    }
  }

  // ---- the by-id calls: each goes to the backend's own balancer ----------------------------

  get mode(): BalancerMode {
    return this.defaultMode;
  }

  /** Every service (PUT /api/mode), and the mode new services start with. */
  setMode(mode: BalancerMode): void {
    this.defaultMode = mode;
    for (const e of this.entries.values()) e.unit.core.setMode(mode);
  }

  reportHealth(id: string, ok: boolean, now: number, reason?: string, immediate?: boolean): void {
    this.byBackend.get(id)?.unit.core.reportHealth(id, ok, now, reason, immediate);
  }

  setDraining(id: string, draining: boolean, now = 0, why?: string): boolean {
    return this.byBackend.get(id)?.unit.core.setDraining(id, draining, now, why) ?? false;
  }

  setMetrics(id: string, cpu: number | null, mem: number | null, at: number): void {
    this.byBackend.get(id)?.unit.core.setMetrics(id, cpu, mem, at);
  }

  setWeight(id: string, weight: number, now = 0): boolean {
    return this.byBackend.get(id)?.unit.core.setWeight(id, weight, now) ?? false;
  }

  inFlight(id: string): number {
    return this.byBackend.get(id)?.unit.core.inFlight(id) ?? 0;
  }

  has(id: string): boolean {
    return this.byBackend.has(id);
  }

  runtime(now: number): BackendRuntime[] {
    const out: BackendRuntime[] = [];
    for (const e of this.entries.values()) out.push(...e.unit.core.runtime(now));
    return out;
  }
}

/** What a unit's balancer reports, routed to its hold (a health pass releases held requests). */
export function holdEventOf(t: BackendTransition): { kind: 'health-pass'; backend: string } | undefined {
  return t.to === 'healthy' ? { kind: 'health-pass', backend: t.name } : undefined;
}
