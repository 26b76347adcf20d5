// Replicas as child processes of this autoscaler (the bundled backend or LOCAL_BACKEND_COMMAND)
// on free loopback ports, registered with the balancer's admin API; removal drains, deregisters
// and then stops the process. What `pnpm start` uses where Docker is missing. Local replicas
// are this process's children: they end with it. Each runs under its own CPU quota where the
// host allows it (local-cgroup.ts), and the host is one placement host: a replica is added
// only while the replicas' quotas fit in its cores × CPU_OVERCOMMIT (placement/local-host.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HEALTH_PATH, type Logger, replicaName } from '@headroom/shared';
import type { BalancerClient } from '../clients/balancer-client.js';
import type { ReplicaRecord } from '../model/replica.js';
import { lowestFreeIndex } from '../model/replica-template.js';
import type { LocalChild, LocalChildren } from '../observe/local-observer.js';
import { probeHealth } from '../observe/replica-census.js';
import type { DrainClient } from './drain-client.js';
import { LocalIsolation } from './local-cgroup.js';
import type { ReplicaActor } from './replica-runtime.js';

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
  /** How replicas are isolated; default: detected on the first start. */
  isolation?: LocalIsolation | undefined;
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

export class LocalRuntime implements ReplicaActor, LocalChildren {
  readonly kind = 'local' as const;
  private readonly replicas = new Map<string, LocalReplica>();
  private isolation: Promise<LocalIsolation> | undefined;
  readonly quota: number;

  constructor(private readonly o: LocalRuntimeOptions) {
    this.quota = o.cpuQuota ?? 0.5;
    if (o.isolation) this.isolation = Promise.resolve(o.isolation);
  }

  children(): LocalChild[] {
    return [...this.replicas.values()].map((r) => ({
      name: r.name,
      index: r.index,
      url: r.url,
      running: r.child.exitCode === null && r.child.signalCode === null,
      backendId: r.backendId,
    }));
  }

  /** Starts one replica on this host (placement already checked it fits). */
  create(): Promise<string> {
    return this.start();
  }

  async startKept(): Promise<string> {
    throw new Error('the local runtime keeps no stopped replica');
  }

  async remove(r: ReplicaRecord, opts: { drain: boolean; keep: boolean }): Promise<void> {
    if (!r.owned || !this.replicas.has(r.name))
      throw new Error(`refusing to touch ${r.name}: not a child of this autoscaler`);
    await this.stopReplica(r.name, opts.drain);
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

  async cleanup(): Promise<void> {
    for (const name of [...this.replicas.keys()]) await this.stopReplica(name, true);
  }

  async close(): Promise<void> {
    // Children cannot be adopted by a later run: they always end with us.
    await this.cleanup();
  }
}
