// Replicas as containers on one or more Docker engines. Lists the SERVICE's containers
// (owned and not), creates owned ones from a template with placement across engines, and
// removes only owned ones: drain at the balancer, stop with a grace period, remove.
import {
  DEFAULT_HEALTH_PATH,
  LB_LABELS,
  type Logger,
  OWNER_LABELS,
  parsePort,
  replicaIndex,
} from '@headroom/shared';
import type Docker from 'dockerode';
import { chooseHost } from '../placement/choose-host.js';
import {
  book,
  type HostState,
  type PlacementSettings,
  type ReplicaRequest,
} from '../placement/host-state.js';
import { nextCreateAt, recentDeaths } from './crash-backoff.js';
import type { Engine } from './docker-engines.js';
import type { DrainClient } from './drain-client.js';
import {
  EngineUnavailableError,
  type ReplicaRecord,
  type ReplicaRuntime,
  type ReplicaState,
  type ScaleOutcome,
} from './replica-runtime.js';
import {
  createOptions,
  type FallbackSettings,
  isOwned,
  lowestFreeIndex,
  pickVictims,
  type ReplicaTemplate,
  templateFromContainer,
  templateFromSettings,
} from './replica-template.js';

export interface DockerRuntimeOptions {
  service: string;
  engines: Engine[];
  placement: PlacementSettings;
  fallback: FallbackSettings;
  drain?: DrainClient | undefined;
  stopGraceSeconds: number;
  logger: Logger;
  now?: () => number;
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

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

export class DockerRuntime implements ReplicaRuntime {
  readonly kind = 'docker' as const;
  private template: ReplicaTemplate | undefined;
  private readonly byId = new Map<string, Engine>();
  /** When owned replicas were found dead: feeds the crash-loop backoff. */
  private deaths: number[] = [];
  private readonly now: () => number;

  constructor(private readonly o: DockerRuntimeOptions) {
    this.now = o.now ?? Date.now;
  }

  private engineOf(hostId: string): Engine {
    const e = this.o.engines.find((x) => x.id === hostId);
    if (!e) throw new Error(`unknown engine ${hostId}`);
    return e;
  }

  async list(): Promise<ReplicaRecord[]> {
    const out: ReplicaRecord[] = [];
    for (const engine of this.o.engines) {
      let containers: Docker.ContainerInfo[];
      try {
        const [byLb, byOwner] = await Promise.all([
          engine.docker.listContainers({
            all: true,
            filters: { label: [`${LB_LABELS.service}=${this.o.service}`] },
          }),
          engine.docker.listContainers({
            all: true,
            filters: { label: [`${OWNER_LABELS.service}=${this.o.service}`] },
          }),
        ]);
        const byId = new Map<string, Docker.ContainerInfo>();
        for (const c of [...byLb, ...byOwner]) byId.set(c.Id, c);
        containers = [...byId.values()];
      } catch (err) {
        throw new EngineUnavailableError(`docker engine ${engine.id}: ${(err as Error).message}`);
      }
      for (const c of containers) {
        const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
        const owned = isOwned(c.Labels, this.o.service);
        this.byId.set(c.Id, engine);
        out.push({
          id: c.Id,
          name,
          index: owned ? replicaIndex(this.o.service, name) : undefined,
          owned,
          state: stateOf(c),
          host: engine.id,
          health: healthOf(c.Status ?? ''),
          healthUrl: healthUrlOf(c),
          backendId: c.Id.slice(0, 12),
        });
      }
    }
    return out;
  }

  /** A running replica of the service to copy; kept so a scale to zero can come back. */
  private async resolveTemplate(replicas: readonly ReplicaRecord[]): Promise<ReplicaTemplate | undefined> {
    const candidates = [...replicas]
      .filter((r) => r.state === 'running')
      .sort((a, b) => Number(a.owned) - Number(b.owned));
    for (const r of candidates) {
      try {
        const info = await this.engineOf(r.host).docker.getContainer(r.id).inspect();
        this.template = templateFromContainer(info);
        return this.template;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return this.template ?? templateFromSettings(this.o.service, this.o.fallback);
  }

  async scaleTo(desired: number, replicas: readonly ReplicaRecord[]): Promise<ScaleOutcome> {
    const active = replicas.filter((r) => r.state !== 'exited');
    const outcome: ScaleOutcome = { added: [], removed: [] };
    if (desired > active.length) await this.add(desired - active.length, replicas, outcome);
    else if (desired < active.length) await this.remove(active.length - desired, active, outcome);
    return outcome;
  }

  private async add(count: number, replicas: readonly ReplicaRecord[], outcome: ScaleOutcome): Promise<void> {
    const now = this.now();
    const notBefore = nextCreateAt(this.deaths, now);
    if (notBefore > now) {
      outcome.shortfall = {
        reason: 'ScaleFailed',
        detail: `${recentDeaths(this.deaths, now).length} replicas died in the last 5 minutes: next start in ${Math.ceil((notBefore - now) / 1000)} s`,
      };
      return;
    }
    const template = await this.resolveTemplate(replicas);
    if (!template) {
      outcome.shortfall = {
        reason: 'ScaleFailed',
        detail: `no running replica of "${this.o.service}" to copy and REPLICA_IMAGE is not set`,
      };
      return;
    }
    const request: ReplicaRequest = { cpu: template.nanoCpus / 1e9, memory: template.memory };
    let hosts = this.o.engines.length > 1 ? await this.hostStates() : undefined;
    const names = await this.allNames();
    for (let i = 0; i < count; i++) {
      let engine = this.o.engines[0]!;
      if (hosts) {
        const placed = chooseHost(hosts, request, this.o.placement);
        if (!placed.ok) {
          outcome.shortfall = {
            reason: 'HostCapacityExhausted',
            detail: placed.rejected.map((r) => `${r.id}: ${r.reason}`).join(', '),
          };
          return;
        }
        engine = this.engineOf(placed.host.id);
        hosts = hosts.map((h) => (h.id === placed.host.id ? book(h, request) : h));
      }
      try {
        const name = await this.createOn(engine, template, names);
        outcome.added.push(name);
      } catch (err) {
        outcome.shortfall = {
          reason: 'ScaleFailed',
          detail: `create on ${engine.id}: ${(err as Error).message}`,
        };
        return;
      }
    }
  }

  private async createOn(engine: Engine, template: ReplicaTemplate, names: Set<string>): Promise<string> {
    // A name taken meanwhile (409) moves on to the next free n.
    for (let attempt = 0; attempt < 5; attempt++) {
      const n = lowestFreeIndex(this.o.service, names);
      const opts = createOptions(template, this.o.service, n);
      names.add(opts.name!);
      let container: Docker.Container;
      try {
        container = await engine.docker.createContainer(opts);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 409) continue;
        throw err;
      }
      try {
        for (const net of template.networks.slice(1))
          await engine.docker.getNetwork(net).connect({ Container: container.id });
        await container.start();
      } catch (err) {
        await container.remove({ force: true }).catch(() => undefined);
        throw err;
      }
      this.o.logger.info({ replica: opts.name, engine: engine.id, from: template.source }, 'replica created');
      return opts.name!;
    }
    throw new Error('no free replica name after 5 attempts');
  }

  private async allNames(): Promise<Set<string>> {
    const names = new Set<string>();
    for (const e of this.o.engines) {
      try {
        for (const c of await e.docker.listContainers({ all: true }))
          for (const n of c.Names) names.add(n.replace(/^\//, ''));
      } catch {
        // An unreachable engine's names cannot collide with the engine we create on.
      }
    }
    return names;
  }

  /** Capacity and bookings of every engine, from its live state (sum of all containers' limits). */
  async hostStates(): Promise<HostState[]> {
    return Promise.all(
      this.o.engines.map(async (e): Promise<HostState> => {
        try {
          const info = await e.docker.info();
          const running = await e.docker.listContainers();
          let cpuBooked = 0;
          let memoryBooked = 0;
          for (const c of running) {
            const hc = (await e.docker.getContainer(c.Id).inspect()).HostConfig;
            cpuBooked += hc.NanoCpus
              ? hc.NanoCpus / 1e9
              : hc.CpuQuota && hc.CpuPeriod
                ? hc.CpuQuota / hc.CpuPeriod
                : 0;
            memoryBooked += hc.Memory ?? 0;
          }
          return {
            id: e.id,
            reachable: true,
            cpuCapacity: info.NCPU,
            memoryCapacity: info.MemTotal,
            cpuBooked,
            memoryBooked,
          };
        } catch {
          return {
            id: e.id,
            reachable: false,
            cpuCapacity: 0,
            memoryCapacity: 0,
            cpuBooked: 0,
            memoryBooked: 0,
          };
        }
      }),
    );
  }

  private async remove(
    count: number,
    active: readonly ReplicaRecord[],
    outcome: ScaleOutcome,
  ): Promise<void> {
    const victims = pickVictims(active, count);
    for (const v of victims) {
      try {
        await this.stopAndRemove(v, true);
        outcome.removed.push(v.name);
      } catch (err) {
        outcome.shortfall = { reason: 'ScaleFailed', detail: `remove ${v.name}: ${(err as Error).message}` };
        return;
      }
    }
    if (victims.length < count) {
      outcome.shortfall = {
        reason: 'NothingToRemove',
        detail: `${count} to remove but only ${victims.length} replica(s) of "${this.o.service}" are owned by this autoscaler`,
      };
    }
  }

  private async stopAndRemove(r: ReplicaRecord, drain: boolean): Promise<void> {
    // The one place a container is stopped: never one we do not own.
    if (!r.owned) throw new Error(`refusing to touch ${r.name}: not owned by this autoscaler`);
    const engine = this.byId.get(r.id) ?? this.engineOf(r.host);
    const container = engine.docker.getContainer(r.id);
    const info = await container.inspect().catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!info) return;
    if (!isOwned(info.Config.Labels, this.o.service))
      throw new Error(`refusing to touch ${r.name}: labels changed, not owned`);
    if (drain && info.State.Running && this.o.drain && r.backendId) {
      const outcome = await this.o.drain.drain(r.backendId);
      this.o.logger.debug({ replica: r.name, outcome }, 'drained');
    }
    try {
      await container.stop({ t: this.o.stopGraceSeconds });
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code !== 304 && code !== 404) throw err;
    }
    try {
      await container.remove({ v: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.o.logger.info({ replica: r.name }, 'replica removed');
  }

  async reap(replicas: readonly ReplicaRecord[]): Promise<string[]> {
    const dead = replicas.filter((r) => r.owned && r.state === 'exited');
    const reaped: string[] = [];
    if (dead.length > 0)
      this.deaths = [...recentDeaths(this.deaths, this.now()), ...dead.map(() => this.now())];
    for (const r of dead) {
      try {
        await this.stopAndRemove(r, false);
        reaped.push(r.name);
      } catch (err) {
        this.o.logger.warn(
          { replica: r.name, err: (err as Error).message },
          'could not remove a dead replica',
        );
      }
    }
    return reaped;
  }

  async cleanup(): Promise<void> {
    const owned = (await this.list()).filter((r) => r.owned);
    for (const r of owned) await this.stopAndRemove(r, r.state === 'running');
  }

  async close(): Promise<void> {}
}
