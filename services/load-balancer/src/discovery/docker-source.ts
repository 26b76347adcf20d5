// Docker discovery: list labelled containers, translate them through the pure
// containerToBackend, publish whole sets. The events stream triggers a re-list (bursts
// coalesced) so a started container is published in milliseconds; a periodic resync is
// the safety net; a lost engine means: keep the last set, reconnect with backoff. That
// lifecycle is engine-watch.ts's (shared with Swarm discovery); this file says what to list.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { LB_LABELS, type LoadBalancerConfig, type Logger, TRAEFIK_LABELS } from '@headroom/shared';
import type { BackendSource, BackendSpec } from './backend-set.js';
import { recordFromInspect } from './container-record.js';
import { containerToBackend, type DiscoveryContext } from './container-to-backend.js';
import { type EngineApi, EngineClient, targetFromDockerHost } from './engine-api.js';
import { EngineWatch, type Listing } from './engine-watch.js';
import { isStopped, type ServiceScan, type SleepScan, scanByService, scanForSleep } from './sleep-scan.js';
import { type ContainerEvent, stopDecision } from './stop-event.js';

const RELIST_EVENTS = new Set([
  'start',
  'die',
  'stop',
  'kill',
  'destroy',
  'pause',
  'unpause',
  'rename',
  'restart',
  'connect',
  'disconnect',
]);

export function dockerClient(config: Pick<LoadBalancerConfig, 'DOCKER_SOCKET'>): EngineApi {
  // DOCKER_HOST (tcp://…) wins, as with the docker CLI
  const host = process.env.DOCKER_HOST;
  return new EngineClient(host ? targetFromDockerHost(host) : { socketPath: config.DOCKER_SOCKET });
}

/** Id of the container this process runs in, when it runs in one. */
function ownContainerId(): string | undefined {
  try {
    const text = readFileSync('/proc/self/mountinfo', 'utf8');
    const m = /\/containers\/([0-9a-f]{64})\//.exec(text);
    if (m) return m[1];
  } catch {}
  return undefined;
}

/** Per-engine settings when discovery watches several engines (DOCKER_HOSTS). */
export interface DockerSourceOptions {
  /** Where a published port is reached: the tcp:// engine's host; 127.0.0.1 for a local socket. */
  publishedHost?: string;
  /** Told whenever the engine becomes reachable or unreachable. */
  onReachability?: (reachable: boolean, why?: string) => void;
  /** Scale to zero: after each list, the service's running and stopped labeled containers. */
  onScan?: (scan: SleepScan) => void;
  /** Scale to zero per service: after each list, every service's running and stopped containers. */
  onServiceScans?: (scans: ReadonlyMap<string, ServiceScan>) => void;
  /**
   * A container is stopping (`docker stop`'s signal, a kill): drain it while its stop grace
   * runs; `stopping: false` when it runs again (a restart).
   */
  onStopping?: (containerId: string, stopping: boolean, why: string) => void;
}

export interface DockerListing extends Listing {
  readonly scan: SleepScan;
  readonly serviceScans: Map<string, ServiceScan>;
}

/** The lifecycle (events, re-lists, resync, reconnect, stop) is EngineWatch's; this says how to list. */
export class DockerSource extends EngineWatch<ContainerEvent, DockerListing> {
  protected readonly subject = 'docker engine';
  protected readonly eventFilters = { type: ['container', 'network'] };
  private ownNetworks: string[] = [];
  private skipped = new Map<string, string>();
  /** Containers balanced with a label ignored (lb.maxconn): said once per container and reason. */
  private warned = new Map<string, string>();

  constructor(
    docker: EngineApi,
    private readonly config: LoadBalancerConfig,
    logger: Logger,
    private readonly options: DockerSourceOptions = {},
  ) {
    super(docker, logger, {
      resyncIntervalMs: config.RESYNC_INTERVAL_MS,
      onReachability: options.onReachability,
    });
  }

  protected onEvent(ev: ContainerEvent): boolean {
    const action = (ev.Action ?? ev.status ?? '').split(':')[0]!;
    const stop = stopDecision(ev);
    if (stop.kind === 'stopping') this.options.onStopping?.(stop.containerId, true, stop.why);
    else if (stop.kind === 'running') this.options.onStopping?.(stop.containerId, false, 'started');
    return RELIST_EVENTS.has(action) || action === 'health_status';
  }

  protected override listed(listing: DockerListing): void {
    this.options.onScan?.(listing.scan);
    this.options.onServiceScans?.(listing.serviceScans);
  }

  /** The networks this balancer's own container is on (re-read on every reconnect). */
  protected override async beforeConnect(): Promise<void> {
    const id = ownContainerId() ?? os.hostname();
    try {
      const info = await this.engine.getContainer(id).inspect();
      this.ownNetworks = Object.keys(info.NetworkSettings?.Networks ?? {});
    } catch {
      this.ownNetworks = [];
    }
  }

  protected async list(): Promise<DockerListing> {
    // all: true, so a service the autoscaler put to sleep (its containers stopped, not
    // removed) is known as sleeping, also by a balancer started while it sleeps
    // Traefik-labelled containers too (read when they have no lb.* label); the engine ANDs label filters
    const [own, traefik] = await Promise.all([
      this.engine.listContainers({ all: true, filters: { label: [`${LB_LABELS.enable}`] } }),
      this.engine.listContainers({ all: true, filters: { label: [`${TRAEFIK_LABELS.enable}`] } }),
    ]);
    const ids = new Set(own.map((s) => s.Id));
    const all = [...own, ...traefik.filter((s) => !ids.has(s.Id))];
    const scan = scanForSleep(own, this.config.LB_SERVICE);
    const serviceScans = scanByService(all, this.config.LB_SERVICE, this.config.DOCKER_NETWORK);
    const summaries = all.filter((s) => !isStopped(s.State));
    const ctx: DiscoveryContext = {
      service: this.config.LB_SERVICE,
      ownNetworks: this.ownNetworks,
      network: this.config.DOCKER_NETWORK,
      addressMode: this.config.DOCKER_ADDRESS,
      healthPath: this.config.HEALTH_PATH,
      healthStatus: this.config.HEALTH_STATUS,
      publishedHost: this.options.publishedHost ?? '127.0.0.1',
    };
    const infos = await Promise.all(
      summaries.map((s) =>
        this.engine
          .getContainer(s.Id)
          .inspect()
          .catch((err: { statusCode?: number; message?: string }) => ({ failed: s.Id, err })),
      ),
    );
    const specs: BackendSpec[] = [];
    for (const info of infos) {
      if ('failed' in info) {
        // 404: removed between list and inspect, it is gone. Anything else (engine error,
        // timeout) says nothing about the container: keep what we knew of it, and say so.
        if (info.err.statusCode === 404) continue;
        const known = this.lastSet().find((spec) => spec.containerId === info.failed);
        this.logger.warn(
          {
            container: info.failed.slice(0, 12),
            status: info.err.statusCode,
            err: info.err.message,
            kept: known !== undefined,
          },
          known
            ? 'docker inspect failed; keeping the container as last seen'
            : 'docker inspect failed; container not added until it can be inspected',
        );
        if (known) specs.push(known);
        continue;
      }
      const decision = containerToBackend(recordFromInspect(info), ctx);
      const name = info.Name.replace(/^\//, '');
      if ('spec' in decision) {
        specs.push(decision.spec);
        this.skipped.delete(name);
        if (decision.warning === undefined) this.warned.delete(name);
        else if (this.warned.get(name) !== decision.warning) {
          this.warned.set(name, decision.warning);
          this.logger.warn({ container: name, reason: decision.warning }, 'container label ignored');
        }
      } else if (this.skipped.get(name) !== decision.skip) {
        this.skipped.set(name, decision.skip);
        // a label to fix is a warning (once per container and reason); the rest is information
        if (decision.bad)
          this.logger.warn({ container: name, reason: decision.skip }, 'container skipped: bad label');
        else this.logger.info({ container: name, reason: decision.skip }, 'container skipped');
      }
    }
    specs.sort((a, b) => a.name.localeCompare(b.name));
    return { specs, scan, serviceScans };
  }
}

export function createDockerSource(
  config: LoadBalancerConfig,
  logger: Logger,
  docker?: EngineApi,
  options?: DockerSourceOptions,
): BackendSource {
  return new DockerSource(docker ?? dockerClient(config), config, logger, options);
}
