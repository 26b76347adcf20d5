// Replicas as containers on one or more Docker engines: creates one on the engine the plan
// chose, from the template observe/ read; starts the container a sleep kept; removes only owned
// ones (drain at the balancer, stop with a grace period, remove). It neither lists nor places.
import { type Logger, OWNER_LABELS, OWNER_VALUE } from '@headroom/shared';
import type Docker from 'dockerode';
import type { Engine } from '../clients/docker-engines.js';
import type { ReplicaRecord } from '../model/replica.js';
import {
  createOptions,
  isOwned,
  lowestFreeIndex,
  portsToPublish,
  type ReplicaTemplate,
  resolveNetworks,
} from '../model/replica-template.js';
import type { DrainClient } from './drain-client.js';
import type { ReplicaActor } from './replica-runtime.js';

export interface DockerRuntimeOptions {
  engines: Engine[];
  drain?: DrainClient | undefined;
  stopGraceSeconds: number;
  logger: Logger;
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

export class DockerRuntime implements ReplicaActor {
  readonly kind = 'docker' as const;

  constructor(private readonly o: DockerRuntimeOptions) {}

  private engineOf(hostId: string): Engine {
    const e = this.o.engines.find((x) => x.id === hostId);
    if (!e) throw new Error(`unknown engine ${hostId}`);
    return e;
  }

  async create(service: string, host: string, template: ReplicaTemplate | undefined): Promise<string> {
    if (!template) throw new Error(`no template for a new replica of "${service}"`);
    const engine = this.engineOf(host);
    const names = await this.allNames();
    // A name taken meanwhile (409) moves on to the next free n.
    for (let attempt = 0; attempt < 5; attempt++) {
      const n = lowestFreeIndex(service, names);
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
      const sameEngine = template.host === undefined || template.host === engine.id;
      const opts = createOptions(template, service, n, {
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
        // Rolled back: a replica that did not start books nothing on the engine.
        await container.remove({ force: true }).catch(() => undefined);
        throw err;
      }
      this.o.logger.info({ replica: opts.name, engine: engine.id, from: template.source }, 'replica created');
      return opts.name!;
    }
    throw new Error('no free replica name after 5 attempts');
  }

  async startKept(replica: ReplicaRecord, why: 'wake' | 'adopt' = 'wake'): Promise<string> {
    try {
      await this.engineOf(replica.host).docker.getContainer(replica.id).start();
      this.o.logger.info(
        { replica: replica.name },
        why === 'wake'
          ? 'kept replica started (wake)'
          : 'adopted a replica created but never started (an earlier autoscaler stopped between create and start): started',
      );
    } catch (err) {
      // 304: already started meanwhile
      if ((err as { statusCode?: number }).statusCode !== 304) throw err;
    }
    return replica.name;
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

  async remove(r: ReplicaRecord, opts: { drain: boolean; keep: boolean }): Promise<void> {
    // The one place a container is stopped: never one we do not own.
    const service = r.labels?.[OWNER_LABELS.service];
    if (!r.owned || service === undefined)
      throw new Error(`refusing to touch ${r.name}: not owned by this autoscaler`);
    const container = this.engineOf(r.host).docker.getContainer(r.id);
    const info = await container.inspect().catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!info) return;
    if (!isOwned(info.Config.Labels, service))
      throw new Error(`refusing to touch ${r.name}: labels changed, not owned`);
    if (opts.drain && info.State.Running && this.o.drain && r.backendId) {
      const outcome = await this.o.drain.drain(r.backendId);
      this.o.logger.debug({ replica: r.name, outcome }, 'drained');
    }
    try {
      await container.stop({ t: this.o.stopGraceSeconds });
    } catch (err) {
      const code = (err as { statusCode?: number }).statusCode;
      if (code !== 304 && code !== 404) throw err;
    }
    if (opts.keep) {
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

  /** Shutdown only (not a tick): every owned container of these services on every engine. */
  async cleanup(services: readonly string[]): Promise<void> {
    for (const engine of this.o.engines) {
      let owned: Docker.ContainerInfo[];
      try {
        owned = await engine.docker.listContainers({
          all: true,
          filters: { label: [`${OWNER_LABELS.managedBy}=${OWNER_VALUE}`] },
        });
      } catch (err) {
        this.o.logger.warn({ engine: engine.id, err: (err as Error).message }, 'cleanup: engine unreachable');
        continue;
      }
      for (const c of owned) {
        const service = c.Labels[OWNER_LABELS.service];
        if (service === undefined || !services.includes(service)) continue;
        await this.remove(
          {
            id: c.Id,
            name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
            owned: true,
            state: c.State === 'running' ? 'running' : 'exited',
            host: engine.id,
            backendId: c.Id.slice(0, 12),
            labels: c.Labels,
          },
          { drain: c.State === 'running', keep: false },
        );
      }
    }
  }

  async close(): Promise<void> {}
}
