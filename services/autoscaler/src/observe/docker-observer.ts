// Observes Docker engines once per tick: every container of every scaled service (the
// configured SERVICE, and each lb.service value whose containers carry `autoscale.enable=true`),
// owned or not, each engine's capacity, and per service the template a new replica copies
// (inspected once and kept while its container exists). Nothing here creates or stops anything.
import {
  AUTOSCALE_LABELS,
  DEFAULT_HEALTH_PATH,
  isEnabled,
  LB_LABELS,
  type Logger,
  OWNER_LABELS,
  parsePort,
  replicaIndex,
} from '@headroom/shared';
import type Docker from 'dockerode';
import type { Engine } from '../clients/docker-engines.js';
import { EngineUnavailableError, type ReplicaRecord, type ReplicaState } from '../model/replica.js';
import {
  type FallbackSettings,
  isOwned,
  type ReplicaTemplate,
  templateFromContainer,
  templateFromSettings,
} from '../model/replica-template.js';
import type { HostState } from '../placement/host-state.js';
import { readHostState, unreachableHost } from './engine-capacity.js';
import type { LabelSource, RuntimeObservation, RuntimeObserver, ServiceRecords } from './runtime-observer.js';

export interface DockerObserverOptions {
  /** SERVICE: always scaled (today's single-service set-up), labelled or not; undefined: labels only. */
  service?: string | undefined;
  engines: Engine[];
  fallback: FallbackSettings;
  /** Read each engine's capacity (placement); false in tests that only list. */
  capacity?: boolean;
  /** DISK_RESERVE_MB in bytes: an engine that gives no disk figure is said so, once. */
  diskReserve?: number | undefined;
  logger?: Logger | undefined;
}

function stateOf(c: Docker.ContainerInfo): ReplicaState {
  if (c.State === 'running') return 'running';
  if (c.State === 'created' || c.State === 'restarting' || c.State === 'paused') return 'starting';
  return 'exited';
}

function healthOf(status: string): ReplicaRecord['health'] {
  if (status.includes('(healthy)')) return 'healthy';
  if (status.includes('(unhealthy)')) return 'unhealthy';
  if (status.includes('(health: starting)')) return 'starting';
  return undefined;
}

function healthUrlOf(c: Docker.ContainerInfo): string | undefined {
  const nets = c.NetworkSettings?.Networks ?? {};
  const wanted = c.Labels[LB_LABELS.network];
  const net = (wanted ? nets[wanted] : undefined) ?? Object.values(nets).find((n) => n.IPAddress);
  const port = parsePort(c.Labels[LB_LABELS.port]);
  const privatePorts = [
    ...new Set((c.Ports ?? []).filter((p) => p.Type === 'tcp').map((p) => p.PrivatePort)),
  ];
  const p = typeof port === 'number' ? port : privatePorts.length === 1 ? privatePorts[0] : undefined;
  if (!net?.IPAddress || p === undefined) return undefined;
  return `http://${net.IPAddress}:${p}${c.Labels[LB_LABELS.healthPath] || DEFAULT_HEALTH_PATH}`;
}

/** Pure: the service a container belongs to, if any scaled one: its owner label, else its lb.service. */
export function serviceOf(labels: Readonly<Record<string, string>>): string | undefined {
  return labels[OWNER_LABELS.service] ?? labels[LB_LABELS.service];
}

/**
 * Pure: the services to scale. SERVICE, when set, is the only one (its labels still give its
 * settings), as LB_SERVICE filters the balancer: two autoscalers on one engine, each with its
 * SERVICE, never scale each other's services. Unset: every service whose containers carry
 * `autoscale.enable=true`, else today's default single service.
 */
export function scaledServices(
  containers: readonly { labels: Readonly<Record<string, string>> }[],
  configured: string | undefined,
): string[] {
  if (configured !== undefined) return [configured];
  const out = new Set<string>();
  for (const c of containers) {
    const s = serviceOf(c.labels);
    if (s !== undefined && isEnabled(c.labels[AUTOSCALE_LABELS.enable])) out.add(s);
  }
  // No label: today's default single service.
  if (out.size === 0) out.add(DEFAULT_SERVICE);
  return [...out];
}

/** The service scaled when SERVICE is unset and no container carries `autoscale.enable=true`. */
export const DEFAULT_SERVICE = 'backend';

interface Listed {
  engine: Engine;
  info: Docker.ContainerInfo;
}

export class DockerObserver implements RuntimeObserver {
  readonly kind = 'docker' as const;
  /** Per service: the template and the container it was read from. */
  private readonly templates = new Map<string, { from: string; template: ReplicaTemplate }>();
  /** Engines already reported as giving no disk figure. */
  private readonly diskUnknownLogged = new Set<string>();

  constructor(private readonly o: DockerObserverOptions) {}

  async observe(): Promise<RuntimeObservation> {
    const capacity = this.o.capacity ?? true;
    const results = await Promise.all(
      this.o.engines.map(async (engine) => {
        try {
          const [containers, host] = await Promise.all([
            engine.docker.listContainers({ all: true }),
            capacity ? readHostState(engine) : Promise.resolve(unreachableHost(engine.id)),
          ]);
          return { engine, containers, host, error: undefined };
        } catch (err) {
          return {
            engine,
            containers: [] as Docker.ContainerInfo[],
            host: unreachableHost(engine.id),
            error: (err as Error).message,
          };
        }
      }),
    );
    const unreachable = results
      .filter((r) => r.error !== undefined)
      .map((r) => ({ id: r.engine.id, error: r.error as string }));
    if (unreachable.length === results.length) {
      throw new EngineUnavailableError(
        unreachable.map((u) => `docker engine ${u.id}: ${u.error}`).join('; '),
      );
    }
    const listed: Listed[] = results.flatMap((r) => r.containers.map((info) => ({ engine: r.engine, info })));
    const names = scaledServices(
      listed.map((l) => ({ labels: l.info.Labels ?? {} })),
      this.o.service,
    );
    const services: ServiceRecords[] = [];
    for (const service of names) {
      const mine = listed.filter(
        (l) =>
          l.info.Labels?.[LB_LABELS.service] === service || l.info.Labels?.[OWNER_LABELS.service] === service,
      );
      const records = mine.map((l) => toRecord(l, service));
      const template = await this.template(service, records, listed);
      services.push({
        service,
        records,
        labelSources: labelSources(mine),
        template,
        request: template ? { cpu: template.nanoCpus / 1e9, memory: template.memory } : undefined,
      });
    }
    const hosts: HostState[] = results.map((r) => r.host);
    if (capacity) this.logUnknownDisk(hosts);
    return { services, hosts: capacity ? hosts : undefined, unreachable };
  }

  /** DISK_RESERVE_MB needs the engine's free disk; an engine that gives none is said so, once. */
  private logUnknownDisk(hosts: readonly HostState[]): void {
    if (!this.o.logger || (this.o.diskReserve ?? 0) <= 0) return;
    for (const h of hosts) {
      if (!h.reachable || h.diskCapacity !== undefined || this.diskUnknownLogged.has(h.id)) continue;
      this.diskUnknownLogged.add(h.id);
      this.o.logger.warn(
        { engine: h.id },
        "DISK_RESERVE_MB not applied on this engine: its data root's free disk is not visible from here (a tcp:// engine, or a data root outside this container)",
      );
    }
  }

  /**
   * A running replica of the service to copy (a stopped container kept by a sleep serves as
   * well); inspected again only when the one it was read from is gone.
   */
  private async template(
    service: string,
    records: readonly ReplicaRecord[],
    listed: readonly Listed[],
  ): Promise<ReplicaTemplate | undefined> {
    const cached = this.templates.get(service);
    if (cached && records.some((r) => r.id === cached.from && r.state !== 'exited')) return cached.template;
    const candidates = [...records]
      .filter((r) => r.state === 'running' || (r.owned && r.state === 'exited'))
      .sort(
        (a, b) =>
          Number(a.state !== 'running') - Number(b.state !== 'running') || Number(a.owned) - Number(b.owned),
      );
    for (const r of candidates) {
      const engine = listed.find((l) => l.info.Id === r.id)?.engine;
      if (!engine) continue;
      try {
        const info = await engine.docker.getContainer(r.id).inspect();
        const template = { ...templateFromContainer(info), host: r.host };
        this.templates.set(service, { from: r.id, template });
        return template;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    }
    return cached?.template ?? templateFromSettings(service, this.o.fallback);
  }
}

function toRecord(l: Listed, service: string): ReplicaRecord {
  const c = l.info;
  const labels = c.Labels ?? {};
  const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
  const owned = isOwned(labels, service);
  return {
    id: c.Id,
    name,
    index: owned ? replicaIndex(service, name) : undefined,
    owned,
    state: stateOf(c),
    host: l.engine.id,
    health: healthOf(c.Status ?? ''),
    healthUrl: healthUrlOf(c),
    backendId: c.Id.slice(0, 12),
    idleAfter: labels[LB_LABELS.idleAfter],
    labels,
    neverStarted: c.State === 'created',
  };
}

/** The containers whose `autoscale.*` labels set the service up: the user's own before our copies, by name. */
function labelSources(mine: readonly Listed[]): LabelSource[] {
  return mine
    .filter((l) => isEnabled(l.info.Labels?.[AUTOSCALE_LABELS.enable]))
    .map((l) => ({
      name: (l.info.Names[0] ?? l.info.Id).replace(/^\//, ''),
      labels: l.info.Labels ?? {},
      owned: l.info.Labels?.[OWNER_LABELS.managedBy] !== undefined,
    }))
    .sort((a, b) => Number(a.owned) - Number(b.owned) || a.name.localeCompare(b.name))
    .map(({ name, labels }) => ({ name, labels }));
}
