// Replicas as child processes of this autoscaler (the bundled backend or LOCAL_BACKEND_COMMAND)
// on free loopback ports, registered with the balancer's admin API; removal drains, deregisters
// and then stops the process. What `pnpm start` uses where Docker is missing. Local replicas
// are this process's children: they end with it. Each runs under its own CPU quota where the
// host allows it (local-cgroup.ts), and the host is one placement host: a replica is added
// only while the replicas' quotas fit in its cores × CPU_OVERCOMMIT.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HEALTH_PATH, type Logger, replicaName } from '@headroom/shared';
import type { BalancerClient } from '../observe/balancer-client.js';
import { probeHealth } from '../observe/replica-census.js';
import { chooseHost } from '../placement/choose-host.js';
import type { HostState } from '../placement/host-state.js';
import type { DrainClient } from './drain-client.js';
import { LocalIsolation } from './local-cgroup.js';
import type { ReplicaRecord, ReplicaRuntime, ScaleOutcome } from './replica-runtime.js';
import { lowestFreeIndex, pickVictims } from './replica-template.js';

export const BUNDLED_BACKEND = fileURLToPath(new URL('../../../backend/dist/main.js', import.meta.url));

interface LocalReplica {
  name: string;
  index: number;
  port: number;
  url: string;
  child: ChildProcess;
  exited: Promise<void>;
  backendId?: string | undefined;
}

export interface LocalRuntimeOptions {
  service: string;
  command?: string | undefined;
  balancer?: BalancerClient | undefined;
  drain?: DrainClient | undefined;
  stopGraceSeconds: number;
  startTimeoutMs?: number;
  logger: Logger;
  /** LOCAL_CPU_QUOTA: cores per replica (default 0.5). */
  cpuQuota?: number | undefined;
  /** CPU_OVERCOMMIT (default 1). */
  cpuOvercommit?: number | undefined;
  /** The host's cores (default: os.availableParallelism()). */
  hostCores?: number | undefined;
  /** How replicas are isolated; default: detected on the first start. */
  isolation?: LocalIsolation | undefined;
}

/** Pure: this host as placement sees it, with `replicas` local replicas of `quota` cores each. */
export function localHostState(hostCores: number, replicas: number, quota: number): HostState {
  return {
    id: 'local',
    reachable: true,
    cpuCapacity: hostCores,
    cpuBooked: replicas * quota,
    // memory is not booked for local replicas (no limit is set on them)
    memoryCapacity: Number.POSITIVE_INFINITY,
    memoryBooked: 0,
  };
}

/** Pure: why one more replica does not fit on this host, or null when it does. */
export function localCapacityShortfall(
  hostCores: number,
  replicas: number,
  quota: number,
  overcommit: number,
): string | null {
  const placed = chooseHost(
    [localHostState(hostCores, replicas, quota)],
    { cpu: quota, memory: 0 },
    {
      cpuOvercommit: overcommit,
      memoryReserve: 0,
      diskReserve: 0,
    },
  );
  if (placed.ok) return null;
  return `local host: ${replicas} replicas × ${quota} cores booked, one more needs ${
    Math.round((replicas + 1) * quota * 100) / 100
  } > ${hostCores} cores × CPU_OVERCOMMIT ${overcommit}`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export class LocalRuntime implements ReplicaRuntime {
  readonly kind = 'local' as const;
  private readonly replicas = new Map<string, LocalReplica>();
  private isolation: Promise<LocalIsolation> | undefined;
  private readonly quota: number;
  private readonly hostCores: number;
  private readonly overcommit: number;

  constructor(private readonly o: LocalRuntimeOptions) {
    this.quota = o.cpuQuota ?? 0.5;
    this.hostCores = o.hostCores ?? os.availableParallelism();
    this.overcommit = o.cpuOvercommit ?? 1;
    if (o.isolation) this.isolation = Promise.resolve(o.isolation);
  }

  async list(): Promise<ReplicaRecord[]> {
    const out: ReplicaRecord[] = [];
    for (const r of this.replicas.values()) {
      out.push({
        id: r.name,
        name: r.name,
        index: r.index,
        owned: true,
        state: r.child.exitCode === null && r.child.signalCode === null ? 'running' : 'exited',
        host: 'local',
        healthUrl: `${r.url}${DEFAULT_HEALTH_PATH}`,
        backendId: r.backendId,
      });
    }
    // Backends of the same service registered by someone else count, and are never touched.
    if (this.o.balancer) {
      const ours = new Set([...this.replicas.values()].map((r) => r.backendId).filter(Boolean));
      try {
        for (const b of await this.o.balancer.backends()) {
          if (b.service !== this.o.service || ours.has(b.id)) continue;
          out.push({
            id: b.id,
            name: b.name,
            owned: false,
            state: 'running',
            host: 'balancer',
            backendId: b.id,
            ready: b.state === 'healthy',
          });
        }
      } catch (err) {
        this.o.logger.debug({ err: (err as Error).message }, 'balancer not reachable for the census');
      }
    }
    return out;
  }

  async scaleTo(desired: number, records: readonly ReplicaRecord[]): Promise<ScaleOutcome> {
    const active = records.filter((r) => r.state !== 'exited');
    const outcome: ScaleOutcome = { added: [], removed: [] };
    try {
      for (let i = active.length; i < desired; i++) {
        // the hard filter before anything starts: the replicas this runtime runs, quota each
        const running = [...this.replicas.values()].filter((r) => r.child.exitCode === null).length;
        const full = localCapacityShortfall(this.hostCores, running, this.quota, this.overcommit);
        if (full) {
          outcome.shortfall = { reason: 'HostCapacityExhausted', detail: full };
          break;
        }
        outcome.added.push(await this.start());
      }
      if (desired < active.length) {
        const victims = pickVictims(active, active.length - desired);
        for (const v of victims) {
          await this.stopReplica(v.name, true);
          outcome.removed.push(v.name);
        }
        if (victims.length < active.length - desired) {
          outcome.shortfall = {
            reason: 'NothingToRemove',
            detail: 'the other replicas are not children of this autoscaler',
          };
        }
      }
    } catch (err) {
      outcome.shortfall = { reason: 'ScaleFailed', detail: (err as Error).message };
    }
    return outcome;
  }

  private async start(): Promise<string> {
    const index = lowestFreeIndex(this.o.service, this.replicas.keys());
    const name = replicaName(this.o.service, index);
    const port = await freePort();
    const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', INSTANCE_ID: name };
    this.isolation ??= LocalIsolation.create(this.quota, this.o.logger);
    const isolated = await (await this.isolation).prepare(
      name,
      this.o.command ? ['sh', '-c', this.o.command] : [process.execPath, BUNDLED_BACKEND],
    );
    const [program, ...args] = isolated.argv as [string, ...string[]];
    // stdout too: the replica's own log lines (burner switched, errors) belong on the terminal
    const child = spawn(program, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    let spawnError: Error | undefined;
    const exited = new Promise<void>((resolve) => {
      const done = () => void isolated.release().then(resolve, resolve);
      child.once('exit', done);
      // a program that cannot be started emits 'error' and never 'exit'
      child.once('error', (err) => {
        spawnError = err;
        done();
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const replica: LocalReplica = { name, index, port, url, child, exited };
    this.replicas.set(name, replica);
    const deadline = Date.now() + (this.o.startTimeoutMs ?? 15_000);
    while (!(await probeHealth(`${url}${DEFAULT_HEALTH_PATH}`, 500))) {
      if (spawnError || child.exitCode !== null || Date.now() > deadline) {
        await this.stopReplica(name, false);
        throw new Error(
          spawnError
            ? `local replica ${name}: ${program} could not be started: ${spawnError.message}`
            : `local replica ${name} did not become healthy on ${url}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.o.balancer)
      replica.backendId = await this.o.balancer.register({ url, name, service: this.o.service });
    this.o.logger.info(
      { replica: name, url, cpuQuota: this.quota, isolation: (await this.isolation).kind },
      'local replica started',
    );
    return name;
  }

  private async stopReplica(name: string, drain: boolean): Promise<void> {
    const r = this.replicas.get(name);
    if (!r) return;
    if (r.backendId && this.o.balancer) {
      if (drain && this.o.drain) await this.o.drain.drain(r.backendId);
      await this.o.balancer
        .remove(r.backendId)
        .catch((err) => this.o.logger.warn({ err: (err as Error).message }, 'deregister failed'));
    }
    if (r.child.exitCode === null && r.child.signalCode === null) {
      r.child.kill('SIGTERM');
      const timer = setTimeout(() => r.child.kill('SIGKILL'), this.o.stopGraceSeconds * 1000);
      await r.exited;
      clearTimeout(timer);
    }
    this.replicas.delete(name);
    this.o.logger.info({ replica: name }, 'local replica stopped');
  }

  async reap(records: readonly ReplicaRecord[]): Promise<string[]> {
    const dead = records.filter((r) => r.owned && r.state === 'exited').map((r) => r.name);
    for (const name of dead) await this.stopReplica(name, false);
    return dead;
  }

  async cleanup(): Promise<void> {
    for (const name of [...this.replicas.keys()]) await this.stopReplica(name, true);
  }

  async close(): Promise<void> {
    // Children cannot be adopted by a later run: they always end with us.
    await this.cleanup();
  }
}
