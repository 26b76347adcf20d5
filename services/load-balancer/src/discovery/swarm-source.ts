// Swarm discovery: services whose spec carries lb.enable=true, one backend per task that runs
// and is meant to run, addressed by the task's IP on an overlay network the balancer shares
// (or DOCKER_NETWORK / lb.network). It follows the manager's events (service, node, and the
// manager's own containers) with a periodic resync (RESYNC_INTERVAL_MS) as the safety net.
//
// Why events need follow-up re-lists: the manager has no task events. A scale-in is a
// `service update` event, and only after it does the orchestrator set the removed tasks'
// desired state to shutdown/remove, and a scale-out's tasks become running seconds later. So
// an event starts a short settle window of quick re-lists, extended while tasks are still on
// their way in or out. A task whose desired state is no longer `running` leaves the set at
// once: the proxy finishes its in-flight requests on the old pool, and the Swarm agent holds
// the task's SIGTERM for its gossip delay (2 s with an overlay network), so nothing new is
// sent to a task that is stopping. Tasks on a node the manager reports `down` leave too; the
// health checks take them out sooner when the node dies before the manager notices.
// A lost manager keeps the last set and reconnects with backoff, as with Docker: the lifecycle
// is engine-watch.ts's, shared with Docker discovery; this file says what to list.
import { LB_LABELS, type LoadBalancerConfig, type Logger } from '@headroom/shared';
import type { BackendSource, BackendSpec } from './backend-set.js';
import { dockerClient } from './docker-source.js';
import type { EngineApi } from './engine-api.js';
import { EngineWatch, type Listing } from './engine-watch.js';
import { decodeLabels } from './label-decoder.js';
import { type ServiceScan, scanSwarmByService } from './sleep-scan.js';

/** After an event, re-list this often for SETTLE_MS: the orchestrator acts after the event. */
export const SETTLE_INTERVAL_MS = 200;
export const SETTLE_MS = 3_000;
/** While tasks are still starting or stopping, re-list this often, for at most CONVERGE_MAX_MS after the last event. */
export const CONVERGE_INTERVAL_MS = 500;
export const CONVERGE_MAX_MS = 60_000;

export interface SwarmService {
  ID: string;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string>;
    TaskTemplate?: { Resources?: { Limits?: { NanoCPUs?: number; MemoryBytes?: number } } };
    Mode?: { Replicated?: { Replicas?: number } };
  };
}
export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  Status?: { State?: string };
  DesiredState?: string;
  NetworksAttachments?: Array<{ Network?: { Spec?: { Name?: string } }; Addresses?: string[] }>;
}
export interface SwarmNode {
  ID: string;
  Description?: { Hostname?: string };
  Status?: { State?: string };
}

/** Task states before `running` (swarmkit's order). */
const TASK_STARTING = new Set([
  'new',
  'pending',
  'allocated',
  'assigned',
  'accepted',
  'preparing',
  'ready',
  'starting',
]);

export interface SwarmContext {
  network: string | undefined;
  ownNetworks: readonly string[];
  /** HEALTH_PATH (undefined: TCP checks) and HEALTH_STATUS. */
  healthPath: string | undefined;
  healthStatus?: string | undefined;
  service: string | undefined;
  /** Nodes by id; a task on a node whose state is `down` is left out. Empty: node state unknown. */
  nodes?: ReadonlyMap<string, { name?: string | undefined; state?: string | undefined }>;
}

/** Pure: whether a task belongs in rotation, and why not. */
export function taskInRotation(
  t: SwarmTask,
  nodes: SwarmContext['nodes'],
): { in: true } | { in: false; why: string } {
  if (t.DesiredState !== 'running') return { in: false, why: `desired state ${t.DesiredState ?? 'unknown'}` };
  if (t.Status?.State !== 'running') return { in: false, why: `state ${t.Status?.State ?? 'unknown'}` };
  const node = t.NodeID === undefined ? undefined : nodes?.get(t.NodeID);
  if (node?.state === 'down') return { in: false, why: `node ${node.name ?? t.NodeID} is down` };
  return { in: true };
}

/** Pure: a service and its tasks → backend specs. */
export function tasksToBackends(
  service: SwarmService,
  tasks: SwarmTask[],
  ctx: SwarmContext,
): { specs: BackendSpec[]; skip?: string; bad?: boolean } {
  const labels = service.Spec?.Labels ?? {};
  const name = service.Spec?.Name ?? service.ID;
  // the same decoder as Docker discovery: a bad label is a skip the source logs, never dropped silently
  const decoded = decodeLabels(labels, { path: ctx.healthPath, status: ctx.healthStatus });
  if ('skip' in decoded) return { specs: [], skip: decoded.skip, bad: decoded.bad };
  const d = decoded.labels;
  const svc = d.service ?? name;
  if (ctx.service !== undefined && svc !== ctx.service) return { specs: [], skip: 'other service' };
  const port = d.port;
  if (port === undefined)
    return { specs: [], skip: `${LB_LABELS.port} is required on Swarm services`, bad: true };
  const { weight, sticky, check, routes } = d;
  const nano = service.Spec?.TaskTemplate?.Resources?.Limits?.NanoCPUs;
  const mem = service.Spec?.TaskTemplate?.Resources?.Limits?.MemoryBytes;
  const wanted = d.network ?? ctx.network;
  const specs: BackendSpec[] = [];
  for (const t of tasks) {
    if (t.ServiceID !== service.ID || !taskInRotation(t, ctx.nodes).in) continue;
    const attachments = (t.NetworksAttachments ?? []).filter((a) => a.Network?.Spec?.Name !== 'ingress');
    const att =
      attachments.find((a) => a.Network?.Spec?.Name === wanted) ??
      (wanted === undefined
        ? (attachments.find((a) => ctx.ownNetworks.includes(a.Network?.Spec?.Name ?? '')) ?? attachments[0])
        : undefined);
    const ip = att?.Addresses?.[0]?.split('/')[0];
    if (!ip) continue;
    specs.push({
      id: t.ID.slice(0, 12),
      url: `http://${ip}:${port}`,
      name: `${name}.${t.Slot ?? t.ID.slice(0, 6)}`,
      service: svc,
      routes: routes.length > 0 ? routes : undefined,
      source: 'swarm',
      healthPath: check.kind === 'http' ? check.path : undefined,
      healthStatus: check.kind === 'http' ? check.status : undefined,
      weight,
      slowStartMs: d.slowStartMs,
      // a bad lb.maxconn leaves the adaptive limit (the Docker source logs it per container)
      maxConn: d.maxConn,
      timeoutBodyMs: d.timeoutBodyMs,
      cpuLimit: nano ? nano / 1e9 : undefined,
      memoryLimit: mem || undefined,
      sticky,
      node: t.NodeID,
      nodeName: t.NodeID === undefined ? undefined : ctx.nodes?.get(t.NodeID)?.name,
    });
  }
  return { specs };
}

/** What the engine's events stream delivers (the fields read here). */
export interface EngineEvent {
  Type?: string;
  Action?: string;
  status?: string;
  Actor?: { Attributes?: Record<string, string> };
}

const CONTAINER_ACTIONS = new Set(['start', 'die', 'stop', 'kill', 'destroy', 'health_status']);

/** Pure: whether an event from the manager can change the set (and so starts a settle window). */
export function isSwarmChange(ev: EngineEvent): boolean {
  const action = (ev.Action ?? ev.status ?? '').split(':')[0] ?? '';
  if (ev.Type === 'service' || ev.Type === 'node') return true;
  // the manager's own containers: only a Swarm task's, and only what changes its running state
  if (ev.Type === 'container')
    return CONTAINER_ACTIONS.has(action) && ev.Actor?.Attributes?.['com.docker.swarm.task.id'] !== undefined;
  return false;
}

/** Pure: whether an enabled service's tasks are on their way in or out (worth re-listing soon). */
export function tasksConverging(tasks: readonly SwarmTask[], serviceIds: ReadonlySet<string>): boolean {
  return tasks.some((t) => {
    if (!serviceIds.has(t.ServiceID)) return false;
    const state = t.Status?.State ?? '';
    if (t.DesiredState === 'running') return TASK_STARTING.has(state);
    // told to stop and not stopped yet
    return state === 'running' || TASK_STARTING.has(state);
  });
}

/** Pure: when to re-list next after a list (ms from now), or undefined to wait for events and the resync. */
export function followUpDelay(
  now: number,
  lastEventAt: number | undefined,
  converging: boolean,
): number | undefined {
  if (lastEventAt === undefined) return undefined;
  const since = now - lastEventAt;
  if (since < SETTLE_MS) return SETTLE_INTERVAL_MS;
  if (converging && since < CONVERGE_MAX_MS) return CONVERGE_INTERVAL_MS;
  return undefined;
}

export interface SwarmListing extends Listing {
  readonly converging: boolean;
  /** Scale to zero: each balanced service's tasks in rotation, and whether its spec is at 0. */
  readonly serviceScans: Map<string, ServiceScan>;
}

/** The lifecycle (events, re-lists, resync, reconnect, stop) is EngineWatch's; this says how to list. */
export class SwarmSource extends EngineWatch<EngineEvent, SwarmListing> {
  protected readonly subject = 'swarm manager';
  protected readonly eventFilters = { type: ['service', 'node', 'container'] };
  /** Service name → the bad-label reason last logged for it. */
  private readonly skipped = new Map<string, string>();
  private lastEventAt: number | undefined;

  constructor(
    docker: EngineApi,
    private readonly config: LoadBalancerConfig,
    logger: Logger,
    now: () => number = Date.now,
    /** Scale to zero: after each list, each service's tasks and whether its spec is at 0 replicas. */
    private readonly onServiceScans?: (scans: ReadonlyMap<string, ServiceScan>) => void,
    onReachability?: (reachable: boolean, why?: string) => void,
  ) {
    super(docker, logger, { resyncIntervalMs: config.RESYNC_INTERVAL_MS, now, onReachability });
  }

  protected onEvent(ev: EngineEvent): boolean {
    if (!isSwarmChange(ev)) return false;
    this.lastEventAt = this.now();
    this.logger.debug({ type: ev.Type, action: ev.Action }, 'swarm event: re-listing');
    return true;
  }

  /** The settle window: the orchestrator acts after the event, so re-list again shortly. */
  protected override listed(listing: SwarmListing): void {
    this.onServiceScans?.(listing.serviceScans);
    this.relistAfter(followUpDelay(this.now(), this.lastEventAt, listing.converging));
  }

  protected async list(): Promise<SwarmListing> {
    const [services, tasks, nodes] = (await Promise.all([
      this.engine.listServices({ filters: { label: [LB_LABELS.enable] } }),
      this.engine.listTasks(),
      this.engine.listNodes(),
    ])) as [SwarmService[], SwarmTask[], SwarmNode[]];
    const nodeMap = new Map(
      nodes.map((n) => [n.ID, { name: n.Description?.Hostname, state: n.Status?.State }] as const),
    );
    const out: BackendSpec[] = [];
    for (const s of services) {
      const r = tasksToBackends(s, tasks, {
        network: this.config.DOCKER_NETWORK,
        ownNetworks: [],
        healthPath: this.config.HEALTH_PATH,
        healthStatus: this.config.HEALTH_STATUS,
        service: this.config.LB_SERVICE,
        nodes: nodeMap,
      });
      out.push(...r.specs);
      // a label the user must fix: one warning per service and reason, not one per list
      const name = s.Spec?.Name ?? s.ID;
      if (r.bad && r.skip !== undefined) {
        if (this.skipped.get(name) !== r.skip) {
          this.skipped.set(name, r.skip);
          this.logger.warn({ service: name, reason: r.skip }, 'swarm service skipped: bad label');
        }
      } else this.skipped.delete(name);
    }
    this.logLeaving(tasks, new Set(out.map((s) => s.id)), nodeMap);
    return {
      specs: out.sort((a, b) => a.name.localeCompare(b.name)),
      converging: tasksConverging(tasks, new Set(services.map((s) => s.ID))),
      serviceScans: scanSwarmByService(services, out, this.config.LB_SERVICE),
    };
  }

  /** Says why each task of the last published set left it (once: the next set no longer has it). */
  private logLeaving(
    tasks: readonly SwarmTask[],
    inSet: ReadonlySet<string>,
    nodes: SwarmContext['nodes'],
  ): void {
    for (const spec of this.lastSet()) {
      if (inSet.has(spec.id)) continue;
      const task = tasks.find((t) => t.ID.startsWith(spec.id));
      const verdict = task ? taskInRotation(task, nodes) : { in: false as const, why: 'task removed' };
      const why = verdict.in ? 'no address on the balanced network' : verdict.why;
      this.logger.info(
        { backend: spec.id, backend_name: spec.name, node: spec.nodeName ?? spec.node, reason: why },
        'swarm task leaves rotation',
      );
    }
  }
}

export function createSwarmSource(
  config: LoadBalancerConfig,
  logger: Logger,
  docker?: EngineApi,
  onServiceScans?: (scans: ReadonlyMap<string, ServiceScan>) => void,
): BackendSource {
  return new SwarmSource(docker ?? dockerClient(config), config, logger, Date.now, onServiceScans);
}
