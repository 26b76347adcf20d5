// One long-lived Docker stats stream per container (never a one-shot poll with a sleep
// per container): each JSON line carries cpu_stats and precpu_stats, about once a second.
// With DOCKER_HOSTS each container's stats are asked of the engine that runs it (the spec's
// `engine`): asking the local engine gave every container elsewhere a 404, one warning each
// and a reconnect loop for as long as it lived, and no CPU or memory (issue #27).
import type { Logger } from '@headroom/shared';
import type { BackendSet, BackendSpec } from '../discovery/backend-set.js';
import { backoffMs } from '../discovery/backoff.js';
import { type EngineApi, EngineApiError } from '../discovery/engine-api.js';
import { onJsonLines } from '../discovery/json-lines.js';
import { cpuFraction, type DockerStats, memoryFraction, usageFigures } from './cpu-from-stats.js';
import type { PublishSample, ResourceSource } from './resource-sample.js';

/** The engine a backend's container runs on; undefined when none is known for it. */
export type EngineOf = (spec: BackendSpec) => EngineApi | undefined;

interface Stream {
  docker: EngineApi;
  containerId: string;
  cpuLimit: number | undefined;
  stream: NodeJS.ReadableStream | undefined;
  retry: NodeJS.Timeout | undefined;
  attempt: number;
  closed: boolean;
}

export class DockerStatsSource implements ResourceSource {
  private readonly streams = new Map<string, Stream>();

  private readonly engineOf: EngineOf;
  /** Engines named by a spec that are not configured: warned about once each. */
  private readonly unknownEngines = new Set<string>();

  constructor(
    docker: EngineApi | EngineOf,
    private readonly publish: PublishSample,
    private readonly logger: Logger,
  ) {
    this.engineOf = typeof docker === 'function' ? docker : () => docker;
  }

  update(set: BackendSet): void {
    const wanted = new Set<string>();
    for (const spec of set) {
      if (!spec.containerId) continue;
      const existing = this.streams.get(spec.id);
      if (existing) {
        wanted.add(spec.id);
        existing.cpuLimit = spec.cpuLimit;
        continue;
      }
      const docker = this.engineOf(spec);
      if (docker === undefined) {
        const engine = spec.engine ?? '(none)';
        if (!this.unknownEngines.has(engine)) {
          this.unknownEngines.add(engine);
          this.logger.warn(
            { backend: spec.id, engine },
            'no configured engine runs this container: no CPU or memory for its backends',
          );
        }
        continue;
      }
      wanted.add(spec.id);
      const s: Stream = {
        docker,
        containerId: spec.containerId,
        cpuLimit: spec.cpuLimit,
        stream: undefined,
        retry: undefined,
        attempt: 0,
        closed: false,
      };
      this.streams.set(spec.id, s);
      this.open(spec.id, s);
    }
    for (const [id, s] of this.streams) if (!wanted.has(id)) this.close(id, s);
  }

  private open(id: string, s: Stream): void {
    if (s.closed) return;
    s.docker
      .getContainer(s.containerId)
      .stats({ stream: true })
      .then((stream) => {
        const readable = stream as unknown as NodeJS.ReadableStream;
        if (s.closed) {
          (readable as unknown as { destroy: () => void }).destroy();
          return;
        }
        s.stream = readable;
        onJsonLines<DockerStats>(readable, (stats) => {
          if (s.attempt > 0) this.logger.info({ backend: id }, 'docker stats stream back');
          s.attempt = 0;
          this.publish({
            id,
            cpu: cpuFraction(stats, s.cpuLimit),
            mem: memoryFraction(stats),
            at: Date.now(),
            usage: usageFigures(stats, s.cpuLimit),
          });
        });
        const reopen = () => {
          if (s.closed || s.stream !== readable) return;
          s.stream = undefined;
          this.retryLater(id, s);
        };
        readable.on('end', reopen);
        readable.on('error', reopen);
      })
      .catch((err: unknown) => {
        // the engine does not know the container (it went, and discovery will say so): asking
        // again would only repeat the 404; a new set naming it again opens a new stream
        if (err instanceof EngineApiError && err.statusCode === 404) {
          this.logger.warn(
            { backend: id, container: s.containerId.slice(0, 12) },
            'docker stats: no such container on its engine; no CPU or memory for it',
          );
          this.close(id, s);
          return;
        }
        this.retryLater(id, s);
      });
  }

  private retryLater(id: string, s: Stream): void {
    if (s.closed) return;
    const delay = backoffMs(s.attempt++, Math.random(), 500, 10_000);
    // the first loss is a warn (resource-aware steers this backend without CPU until it is
    // back); the retries that follow are debug
    const fields = {
      backend: id,
      container: s.containerId.slice(0, 12),
      retryInMs: delay,
      attempt: s.attempt,
    };
    if (s.attempt === 1)
      this.logger.warn(fields, 'docker stats stream lost; metrics go stale until it is reopened');
    else this.logger.debug(fields, 'docker stats stream still lost; reopening');
    s.retry = setTimeout(() => this.open(id, s), delay);
    s.retry.unref();
  }

  private close(id: string, s: Stream): void {
    s.closed = true;
    clearTimeout(s.retry);
    (s.stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    this.streams.delete(id);
  }

  async stop(): Promise<void> {
    for (const [id, s] of this.streams) this.close(id, s);
  }
}
