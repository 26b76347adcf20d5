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
import { readHostState, unreachableHost } from '../observe/engine-capacity.js';
import type { HostState, PlacementSettings, ReplicaRequest } from '../placement/host-state.js';
import { creationBackoff, exhaustedDetail, planScaleOut } from '../placement/plan.js';
import { recentDeaths } from './crash-backoff.js';
import type { Engine } from './docker-engines.js';
import type { DrainClient } from './drain-client.js';
import {
  EngineUnavailableError,
  type ReplicaRecord,
  type ReplicaRuntime,
  type ReplicaState,
  type RuntimeObservation,
  type ScaleOptions,
  type ScaleOutcome,
} from './replica-runtime.js';
import {
  createOptions,
  type FallbackSettings,
  isOwned,
  lowestFreeIndex,
  pickVictims,
  portsToPublish,
  type ReplicaTemplate,
  resolveNetworks,
  templateFromContainer,
  templateFromSettings,
} from './replica-template.js';

/** One tick's view of every engine: the SERVICE's replicas, each engine's capacity (in configured order), and which engines did not answer. */
export interface EngineObservation extends RuntimeObservation {
  hosts: HostState[];
}

export interface DockerRuntimeOptions {
  service: string;
  engines: Engine[];
  placement: PlacementSettings;
  fallback: FallbackSettings;
  drain?: DrainClient | undefined;
  stopGraceSeconds: number;
  logger: Logger;
  now?: () => number;
  /**
   * Scale to zero (MIN_REPLICAS=0): a sleep stops the last replica but keeps its container, and
   * reap() leaves it, so a wake only has to start it. Nothing marks it but being the owned
   * exited container while none runs, so an autoscaler restarted meanwhile finds it again.
   */
  keepOneOnSleep?: boolean | undefined;
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
  /** The engine the template was read from: replicas elsewhere get that engine's networks and published ports. */
  private templateHost: string | undefined;
  /** Engines already reported as giving no disk figure (logged once each). */
  private readonly diskUnknownLogged = new Set<string>();
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

  private async listEngine(engine: Engine): Promise<ReplicaRecord[]> {
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
    return [...byId.values()].map((c) => {
      const name = (c.Names[0] ?? c.Id).replace(/^\//, '');
      const owned = isOwned(c.Labels, this.o.service);
      this.byId.set(c.Id, engine);
      return {
        id: c.Id,
        name,
        index: owned ? replicaIndex(this.o.service, name) : undefined,
        owned,
        state: stateOf(c),
        host: engine.id,
        health: healthOf(c.Status ?? ''),
        healthUrl: healthUrlOf(c),
        backendId: c.Id.slice(0, 12),
        idleAfter: c.Labels[LB_LABELS.idleAfter],
      };
    });
  }

  /**
   * The SERVICE's replicas on every engine that answers, and (with `capacity`) each engine's
   * capacity for placement. An engine that does not answer is left out and reported: its
   * replicas are not counted (nothing here can see them serve) and placement skips it, while
   * the others keep scaling. Only when no engine answers is the runtime unavailable.
   */
  async observe(capacity = true): Promise<EngineObservation> {
    const results = await Promise.all(
      this.o.engines.map(async (engine) => {
        try {
          const [records, host] = await Promise.all([
            this.listEngine(engine),
            capacity ? readHostState(engine) : Promise.resolve(unreachableHost(engine.id)),
          ]);
          return { engine, records, host, error: undefined };
        } catch (err) {
          return { engine, records: [], host: unreachableHost(engine.id), error: (err as Error).message };
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
    return { records: results.flatMap((r) => r.records), hosts: results.map((r) => r.host), unreachable };
  }

  async list(): Promise<ReplicaRecord[]> {
    return (await this.observe(false)).records;
  }

  /** A running replica of the service to copy; kept so a scale to zero can come back. */
  private async resolveTemplate(replicas: readonly ReplicaRecord[]): Promise<ReplicaTemplate | undefined> {
    // Running ones first; a stopped container kept by a sleep serves as well (inspect works on it).
    const candidates = [...replicas]
      .filter((r) => r.state === 'running' || (r.owned && r.state === 'exited'))
      .sort(
        (a, b) =>
          Number(a.state !== 'running') - Number(b.state !== 'running') || Number(a.owned) - Number(b.owned),
      );
    for (const r of candidates) {
      try {
        const info = await this.engineOf(r.host).docker.getContainer(r.id).inspect();
        this.template = templateFromContainer(info);
        this.templateHost = r.host;
        return this.template;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return this.template ?? templateFromSettings(this.o.service, this.o.fallback);
  }

  /**
   * Carries out the loop's decision. `observation` is the tick's own (engines' capacities read
   * once per tick); without it (a direct call) the engines are observed here.
   */
  async scaleTo(
    desired: number,
    replicas: readonly ReplicaRecord[],
    observation?: RuntimeObservation,
    opts?: ScaleOptions,
  ): Promise<ScaleOutcome> {
    const active = replicas.filter((r) => r.state !== 'exited');
    const outcome: ScaleOutcome = { added: [], removed: [] };
    if (desired > active.length) {
      let missing = desired - active.length;
      // A wake: the container a sleep kept starts far faster than a new one is created.
      const kept = this.o.keepOneOnSleep ? this.keptContainer(replicas) : undefined;
      if (kept && missing > 0) {
        try {
          await (this.byId.get(kept.id) ?? this.engineOf(kept.host)).docker.getContainer(kept.id).start();
          this.o.logger.info({ replica: kept.name }, 'kept replica started (wake)');
          outcome.added.push(kept.name);
          missing--;
        } catch (err) {
          const code = (err as { statusCode?: number }).statusCode;
          // 304: already started meanwhile; anything else: create instead.
          if (code === 304) {
            outcome.added.push(kept.name);
            missing--;
          } else
            this.o.logger.warn(
              { replica: kept.name, err: (err as Error).message },
              'could not start the kept replica: creating new ones',
            );
        }
      }
      if (missing > 0) {
        const hosts = observation?.hosts ?? (await this.hostStates());
        await this.add(missing, replicas, hosts, outcome);
      }
    } else if (desired < active.length)
      await this.remove(active.length - desired, active, outcome, opts?.sleep === true && desired === 0);
    return outcome;
  }

  /** The owned stopped container a sleep kept: only while no replica of the service runs. */
  private keptContainer(replicas: readonly ReplicaRecord[]): ReplicaRecord | undefined {
    if (replicas.some((r) => r.state !== 'exited')) return undefined;
    return replicas
      .filter((r) => r.owned && r.state === 'exited')
      .sort((a, b) => (a.index ?? Number.MAX_SAFE_INTEGER) - (b.index ?? Number.MAX_SAFE_INTEGER))[0];
  }

  private async add(
    count: number,
    replicas: readonly ReplicaRecord[],
    hosts: readonly HostState[],
    outcome: ScaleOutcome,
  ): Promise<void> {
    const now = this.now();
    // The template is read only when no crash backoff holds creation back anyway.
    const backoff = creationBackoff(this.deaths, now);
    if (backoff) {
      outcome.shortfall = {
        reason: 'ScaleFailed',
        detail: `${backoff.deaths} replicas died in the last 5 minutes: next start in ${Math.ceil((backoff.until - now) / 1000)} s`,
      };
      return;
    }
    const template = await this.resolveTemplate(replicas);
    const request: ReplicaRequest | undefined = template
      ? { cpu: template.nanoCpus / 1e9, memory: template.memory }
      : undefined;
    this.logUnknownDisk(hosts);
    const plan = planScaleOut({
      count,
      hosts,
      request,
      settings: this.o.placement,
      deaths: this.deaths,
      now,
    });
    if (plan.kind === 'no-template' || !template) {
      outcome.shortfall = {
        reason: 'ScaleFailed',
        detail: `no running replica of "${this.o.service}" to copy and REPLICA_IMAGE is not set`,
      };
      return;
    }
    if (plan.kind !== 'place') return;
    const names = await this.allNames();
    for (const hostId of plan.hosts) {
      const engine = this.engineOf(hostId);
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
    if (plan.exhausted) {
      outcome.shortfall = { reason: 'HostCapacityExhausted', detail: exhaustedDetail(plan.exhausted) };
    }
  }

  /** DISK_RESERVE_MB needs the engine's free disk; an engine that gives none is said so, once. */
  private logUnknownDisk(hosts: readonly HostState[]): void {
    if (this.o.placement.diskReserve <= 0) return;
    for (const h of hosts) {
      if (!h.reachable || h.diskCapacity !== undefined || this.diskUnknownLogged.has(h.id)) continue;
      this.diskUnknownLogged.add(h.id);
      this.o.logger.warn(
        { engine: h.id },
        "DISK_RESERVE_MB not applied on this engine: its data root's free disk is not visible from here (a tcp:// engine, or a data root outside this container)",
      );
    }
  }

  private async createOn(engine: Engine, template: ReplicaTemplate, names: Set<string>): Promise<string> {
    // A name taken meanwhile (409) moves on to the next free n.
    for (let attempt = 0; attempt < 5; attempt++) {
      const n = lowestFreeIndex(this.o.service, names);
      const { networks, missing } = resolveNetworks(
        template.networks,
        new Set((await engine.docker.listNetworks()).map((x) => x.Name)),
      );
      if (missing.length > 0) {
        this.o.logger.warn(
          { engine: engine.id, missing, using: networks.length > 0 ? networks : ['bridge'] },
          "the template's networks are not all on this engine: the replica joins the ones that are",
        );
      }
      const sameEngine = this.templateHost === undefined || this.templateHost === engine.id;
      const opts = createOptions(template, this.o.service, n, {
        networks,
        publishedPorts: portsToPublish(template, sameEngine),
      });
      names.add(opts.name!);
      let container: Docker.Container;
      try {
        container = await engine.docker.createContainer(opts);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 409) continue;
        throw err;
      }
      try {
        for (const net of networks.slice(1))
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
    return Promise.all(this.o.engines.map((e) => readHostState(e).catch(() => unreachableHost(e.id))));
  }

  private async remove(
    count: number,
    active: readonly ReplicaRecord[],
    outcome: ScaleOutcome,
    sleep = false,
  ): Promise<void> {
    const victims = pickVictims(active, count);
    // A sleep keeps the last one stopped (the lowest n, picked last) for a fast wake.
    const keep =
      sleep && this.o.keepOneOnSleep && victims.length === active.length ? victims.at(-1) : undefined;
    for (const v of victims) {
      try {
        await this.stopAndRemove(v, true, v === keep);
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

  private async stopAndRemove(r: ReplicaRecord, drain: boolean, keep = false): Promise<void> {
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
    if (keep) {
      this.o.logger.info({ replica: r.name }, 'replica stopped and kept for a fast wake (sleep)');
      return;
    }
    try {
      await container.remove({ v: true });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.o.logger.info({ replica: r.name }, 'replica removed');
  }

  async reap(replicas: readonly ReplicaRecord[]): Promise<string[]> {
    // While the service sleeps, the container the sleep kept is not dead: it waits for a wake.
    const kept = this.o.keepOneOnSleep ? this.keptContainer(replicas) : undefined;
    const dead = replicas.filter((r) => r.owned && r.state === 'exited' && r !== kept);
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
