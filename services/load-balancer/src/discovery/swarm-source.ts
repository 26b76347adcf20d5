// Swarm discovery: services whose spec carries lb.enable=true, one backend per running
// task, addressed by the task's IP on an overlay network the balancer shares (or
// DOCKER_NETWORK / lb.network). Tasks are re-listed every 2 s and on service events; the
// engine's task list is the truth, so a lost engine keeps the last set, as with Docker.
import {
  DEFAULT_HEALTH_PATH,
  isEnabled,
  LB_LABELS,
  type LoadBalancerConfig,
  type Logger,
  parsePort,
  parsePositiveNumber,
  parseSticky,
} from '@headroom/shared';
import type Docker from 'dockerode';
import type { BackendSet, BackendSource, BackendSpec } from './backend-set.js';
import { dockerClient } from './docker-source.js';

const POLL_MS = 2000;

interface SwarmService {
  ID: string;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string>;
    TaskTemplate?: { Resources?: { Limits?: { NanoCPUs?: number; MemoryBytes?: number } } };
  };
}
interface SwarmTask {
  ID: string;
  ServiceID: string;
  Slot?: number;
  Status?: { State?: string };
  DesiredState?: string;
  NetworksAttachments?: Array<{ Network?: { Spec?: { Name?: string } }; Addresses?: string[] }>;
}

/** Pure: a service and its tasks → backend specs. */
export function tasksToBackends(
  service: SwarmService,
  tasks: SwarmTask[],
  ctx: {
    network: string | undefined;
    ownNetworks: readonly string[];
    healthPath: string;
    service: string | undefined;
  },
): { specs: BackendSpec[]; skip?: string } {
  const labels = service.Spec?.Labels ?? {};
  const name = service.Spec?.Name ?? service.ID;
  if (!isEnabled(labels[LB_LABELS.enable])) return { specs: [], skip: 'not enabled' };
  const svc = labels[LB_LABELS.service] ?? name;
  if (ctx.service !== undefined && svc !== ctx.service) return { specs: [], skip: 'other service' };
  const port = parsePort(labels[LB_LABELS.port]);
  if (port === undefined || typeof port === 'string')
    return { specs: [], skip: `${LB_LABELS.port} is required on Swarm services` };
  const weight = parsePositiveNumber(labels[LB_LABELS.weight]);
  const sticky = parseSticky(labels[LB_LABELS.sticky], labels[LB_LABELS.stickyCookie]);
  const nano = service.Spec?.TaskTemplate?.Resources?.Limits?.NanoCPUs;
  const mem = service.Spec?.TaskTemplate?.Resources?.Limits?.MemoryBytes;
  const wanted = labels[LB_LABELS.network] ?? ctx.network;
  const specs: BackendSpec[] = [];
  for (const t of tasks) {
    if (t.ServiceID !== service.ID || t.Status?.State !== 'running' || t.DesiredState !== 'running') continue;
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
      source: 'swarm',
      healthPath: labels[LB_LABELS.healthPath] ?? ctx.healthPath ?? DEFAULT_HEALTH_PATH,
      weight: typeof weight === 'number' ? weight : undefined,
      cpuLimit: nano ? nano / 1e9 : undefined,
      memoryLimit: mem || undefined,
      sticky: typeof sticky === 'string' ? { kind: 'none' } : sticky,
    });
  }
  return { specs };
}

export class SwarmSource implements BackendSource {
  private timer: NodeJS.Timeout | undefined;
  private last = '';
  private lastError = '';

  constructor(
    private readonly docker: Docker,
    private readonly config: LoadBalancerConfig,
    private readonly logger: Logger,
  ) {}

  async start(publish: (set: BackendSet) => void): Promise<void> {
    const poll = async () => {
      try {
        const set = await this.list();
        const key = JSON.stringify(set);
        if (key !== this.last) {
          this.last = key;
          publish(set);
        }
        if (this.lastError) this.logger.info('swarm reachable again');
        this.lastError = '';
      } catch (err) {
        const msg = (err as Error).message;
        if (msg !== this.lastError)
          this.logger.warn({ err: msg }, 'swarm unreachable; keeping last known backends');
        this.lastError = msg;
      }
    };
    await poll();
    this.timer = setInterval(() => void poll(), POLL_MS);
    this.timer.unref();
  }

  private async list(): Promise<BackendSpec[]> {
    const services = (await this.docker.listServices({
      filters: { label: [LB_LABELS.enable] },
    })) as SwarmService[];
    const tasks = (await this.docker.listTasks({ filters: { 'desired-state': ['running'] } })) as SwarmTask[];
    const out: BackendSpec[] = [];
    for (const s of services) {
      out.push(
        ...tasksToBackends(s, tasks, {
          network: this.config.DOCKER_NETWORK,
          ownNetworks: [],
          healthPath: this.config.HEALTH_PATH,
          service: this.config.LB_SERVICE,
        }).specs,
      );
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }
}

export function createSwarmSource(
  config: LoadBalancerConfig,
  logger: Logger,
  docker?: Docker,
): BackendSource {
  return new SwarmSource(docker ?? dockerClient(config), config, logger);
}
