// What the admin routes may use: the core and a few operations main.ts implements.
import type { BackendView, DiscoveryEngine, LoadBalancerConfig, Logger } from '@headroom/shared';
import type { BackendSpec } from '../discovery/backend-set.js';
import type { StaticRegistration } from '../discovery/static-source.js';
import type { HoldController } from '../hold/hold-controller.js';
import type { Admission } from '../proxy/admission.js';
import type { ServiceRegistry } from '../services/service-registry.js';
import type { TrafficStats } from '../stats/traffic-stats.js';
import type { LbMetrics } from '../telemetry/metrics.js';
import type { TransitionLog } from '../telemetry/transitions.js';

export interface AdminContext {
  config: LoadBalancerConfig;
  logger: Logger;
  /** The by-id calls (drain, weight, in flight) and the mode of every service. */
  core: Pick<ServiceRegistry, 'mode' | 'setMode' | 'inFlight' | 'setDraining' | 'setWeight'>;
  /** Every service: its balancer, hold queue and routes (GET /api/services). */
  services?: ServiceRegistry;
  stats: TrafficStats;
  metrics: LbMetrics;
  version: string;
  views(): BackendView[];
  spec(id: string): BackendSpec | undefined;
  register(reg: StaticRegistration): BackendSpec;
  /** Drains, then removes a statically registered backend. */
  remove(id: string): 'removing' | 'not-found' | 'not-removable';
  /** Base URL of this balancer's own proxy (for the burst). */
  proxyUrl(): string;
  shuttingDown(): boolean;
  /** Backend state changes, for GET /api/events. */
  events: Pick<TransitionLog, 'list'>;
  /** With DOCKER_HOSTS: each engine's discovery state (GET /api/backends `engines`). */
  engines?: (() => DiscoveryEngine[]) | undefined;
  /** Scale to zero: the balanced service's state (GET /api/backends `service`, PUT /api/service/state). */
  service?: Pick<HoldController, 'view' | 'event'>;
  /** The default service's queue (GET /api/backends `queue`: depth, held, shed counts). */
  queue?: Pick<Admission, 'view'>;
}
