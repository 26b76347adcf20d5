// Docker discovery over several engines (DOCKER_HOSTS): one DockerSource per engine, each
// with its own events stream, resync and reconnect backoff, merged into one BackendSet. An
// engine that goes away keeps its last known backends in the set (the health checks decide
// whether they still answer) and never holds up the others; its state is reported in
// /api/backends (`engines`) and as headroom_lb_discovery_engine_up{engine}.
import { LB_METRICS, type LoadBalancerConfig, type Logger } from '@headroom/shared';
import { Gauge, type Registry } from 'prom-client';
import type { BackendSet, BackendSource } from './backend-set.js';
import { DockerSource, type DockerSourceOptions } from './docker-source.js';
import { type EngineApi, EngineClient } from './engine-api.js';
import { mergeScans, type SleepScan } from './sleep-scan.js';

export interface EngineAddress {
  /** As configured. */
  id: string;
  docker: EngineApi;
  /** Where this engine's published ports are reached. */
  publishedHost: string;
}

/** Pure: a DOCKER_HOSTS entry → how to reach the engine and its published ports. */
export function parseEngineAddress(address: string, timeoutMs = 10_000): EngineAddress {
  if (address.startsWith('unix://') || address.startsWith('/')) {
    const socketPath = address.startsWith('/') ? address : address.slice('unix://'.length);
    return {
      id: address,
      docker: new EngineClient({ socketPath, timeoutMs }),
      publishedHost: '127.0.0.1',
    };
  }
  const url = new URL(address.replace(/^tcp:/, 'http:'));
  const protocol = url.protocol === 'https:' ? 'https' : 'http';
  return {
    id: address,
    docker: new EngineClient({
      // URL keeps an IPv6 literal's brackets; the socket connect wants the bare address
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port || (protocol === 'https' ? 2376 : 2375),
      protocol,
      timeoutMs,
    }),
    // with an IPv6 literal's brackets: it goes into backend URLs
    publishedHost: url.hostname,
  };
}

/** Pure: the engines' last sets as one set, ordered by name (the first engine wins a duplicate id). */
export function mergeEngineSets(sets: readonly BackendSet[]): BackendSet {
  const byId = new Map<string, BackendSet[number]>();
  for (const set of sets) for (const spec of set) if (!byId.has(spec.id)) byId.set(spec.id, spec);
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export interface EngineState {
  engine: string;
  reachable: boolean;
  backends: number;
  error?: string;
  since: string;
}

export class MultiEngineSource implements BackendSource {
  private readonly sources: { id: string; source: DockerSource; state: EngineState }[];
  private publish: ((set: BackendSet) => void) | undefined;
  private started = false;
  /** Scale to zero: each engine's last sleep scan (null until its first list). */
  private readonly scans: (SleepScan | null)[];

  constructor(
    engines: readonly EngineAddress[],
    config: LoadBalancerConfig,
    private readonly logger: Logger,
    registry?: Registry,
    onScan?: (scan: SleepScan) => void,
    onStopping?: DockerSourceOptions['onStopping'],
  ) {
    this.scans = engines.map(() => null);
    const up = registry
      ? new Gauge({
          name: LB_METRICS.discoveryEngineUp,
          help: '1 while discovery reaches this Docker engine (DOCKER_HOSTS), 0 while it keeps its last known backends',
          labelNames: ['engine'],
          registers: [registry],
        })
      : undefined;
    this.sources = engines.map((e, i) => {
      const state: EngineState = {
        engine: e.id,
        reachable: false,
        backends: 0,
        since: new Date().toISOString(),
      };
      up?.set({ engine: e.id }, 0);
      const entry = {
        id: e.id,
        state,
        source: new DockerSource(e.docker, config, logger.child({ engine: e.id }), {
          publishedHost: e.publishedHost,
          onStopping,
          onScan: (scan) => {
            this.scans[i] = scan;
            const merged = mergeScans(this.scans);
            if (merged) onScan?.(merged);
          },
          onReachability: (reachable, why) => {
            up?.set({ engine: e.id }, reachable ? 1 : 0);
            if (state.reachable !== reachable) {
              state.since = new Date().toISOString();
              if (reachable)
                this.logger.info({ engine: e.id }, 'engine reachable: discovering its containers');
              else
                this.logger.warn(
                  { engine: e.id, why, kept: entry.source.lastSet().length },
                  'engine unreachable: keeping its last known backends, the other engines are unaffected',
                );
            }
            state.reachable = reachable;
            if (reachable) delete state.error;
            else state.error = why;
          },
        }),
      };
      return entry;
    });
  }

  async start(publish: (set: BackendSet) => void): Promise<void> {
    this.publish = publish;
    // Every engine in parallel: one that does not answer must not delay the others' first set.
    await Promise.all(this.sources.map((s) => s.source.start(() => this.merge())));
    this.started = true;
    this.merge();
  }

  private merge(): void {
    // Before every engine had its first try, publishing would flap backends of a slow engine in and out.
    if (!this.started && this.sources.some((s) => !s.state.reachable && s.state.error === undefined)) return;
    for (const s of this.sources) s.state.backends = s.source.lastSet().length;
    // each spec names its engine: the stats of a container are asked of the engine that runs it
    this.publish?.(
      mergeEngineSets(
        this.sources.map((s) =>
          s.source.lastSet().map((spec) => (spec.engine === s.id ? spec : { ...spec, engine: s.id })),
        ),
      ),
    );
  }

  engines(): EngineState[] {
    return this.sources.map((s) => ({ ...s.state, backends: s.source.lastSet().length }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.source.stop()));
  }
}
