// Observes the local runtime: its child processes (which act/local-runtime.ts keeps) and the
// backends of the same service someone else registered with the balancer (from the tick's one
// GET /api/backends: they count, and are never touched), plus the host as one placement host.
import { DEFAULT_HEALTH_PATH } from '@headroom/shared';
import type { ReplicaRecord } from '../model/replica.js';
import { localHostState } from '../placement/local-host.js';
import type { ObserveContext, RuntimeObservation, RuntimeObserver } from './runtime-observer.js';

/** One child process as the local runtime keeps it. */
export interface LocalChild {
  name: string;
  index: number;
  url: string;
  running: boolean;
  backendId?: string | undefined;
}

/** What the local runtime exposes to be observed (act/local-runtime.ts implements it). */
export interface LocalChildren {
  children(): LocalChild[];
}

export interface LocalObserverOptions {
  service: string;
  children: LocalChildren;
  /** LOCAL_CPU_QUOTA: cores each replica books. */
  quota: number;
  hostCores: number;
}

export class LocalObserver implements RuntimeObserver {
  readonly kind = 'local' as const;
  constructor(private readonly o: LocalObserverOptions) {}

  async observe(ctx: ObserveContext): Promise<RuntimeObservation> {
    const children = this.o.children.children();
    const records: ReplicaRecord[] = children.map((c) => ({
      id: c.name,
      name: c.name,
      index: c.index,
      owned: true,
      state: c.running ? 'running' : 'exited',
      host: 'local',
      healthUrl: `${c.url}${DEFAULT_HEALTH_PATH}`,
      backendId: c.backendId,
    }));
    const ours = new Set(children.map((c) => c.backendId).filter(Boolean));
    for (const b of ctx.backends ?? []) {
      if (b.service !== this.o.service || ours.has(b.id)) continue;
      records.push({
        id: b.id,
        name: b.name,
        owned: false,
        state: 'running',
        host: 'balancer',
        backendId: b.id,
        ready: b.state === 'healthy',
      });
    }
    const running = children.filter((c) => c.running).length;
    return {
      services: [
        {
          service: this.o.service,
          records,
          labelSources: [],
          request: { cpu: this.o.quota, memory: 0 },
        },
      ],
      hosts: [localHostState(this.o.hostCores, running, this.o.quota)],
      unreachable: [],
    };
  }
}
