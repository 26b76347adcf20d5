// The real balancer finding a test's containers through Docker discovery, and its backend list:
// the start block the load balancer's docker-* tests and the multi-engine tests each wrote out.
import { type BackendList, backendListSchema } from '@headroom/shared';
import { requireDocker } from '../docker/engine.js';
import { ensureBaseImage } from '../docker/images.js';
import {
  type LabelledContainer,
  type LabelledOptions,
  removeRun,
  runNodeScript,
  testRunId,
} from '../docker/labelled.js';
import { startEngines } from '../engines/start.js';
import type { EngineCluster, EngineClusterOptions } from '../engines/types.js';
import { waitFor } from '../wait-for.js';
import { type RunningBalancer, startBalancer } from './services.js';

/** A balancer's GET /api/backends, checked against the contract. */
export async function backendList(admin: string): Promise<BackendList> {
  return backendListSchema.parse(await (await fetch(`${admin}/api/backends`)).json());
}

export interface DiscoveringBalancer extends RunningBalancer {
  /** Its backends now (GET /api/backends). */
  backends(): Promise<BackendList['backends']>;
  /** The backend of one container, by its name. */
  backend(name: string): Promise<BackendList['backends'][number] | undefined>;
  /** Waits until `n` of the backends `which` keeps (default: all) are healthy. */
  waitHealthy(n: number, which?: (b: BackendList['backends'][number]) => boolean): Promise<void>;
}

function discovering(lb: RunningBalancer): DiscoveringBalancer {
  const backends = async () => (await backendList(lb.admin)).backends;
  return {
    ...lb,
    backends,
    backend: async (name) => (await backends()).find((b) => b.name === name),
    async waitHealthy(n, which = () => true) {
      await waitFor(
        async () => (await backends()).filter((b) => which(b) && b.state === 'healthy').length === n,
        {
          timeoutMs: 20_000,
          message: `${n} healthy backends`,
        },
      );
    },
  };
}

/**
 * The balancer over the host engine's labelled containers, at their published ports (the test
 * runs on the host): health checks every 200 ms, no slow start, no CPU or memory readings
 * unless `env` asks for them (METRICS_SOURCE=docker). `env` says which service (LB_SERVICE).
 */
export async function startDockerBalancer(
  env: Record<string, string | undefined>,
): Promise<DiscoveringBalancer> {
  return discovering(
    await startBalancer({
      DISCOVERY: 'docker',
      DOCKER_ADDRESS: 'published',
      METRICS_SOURCE: 'none',
      HEALTH_INTERVAL_MS: '200',
      SLOW_START_MS: '0',
      ...env,
    }),
  );
}

/** The balancer over `service`'s containers on every engine of `cluster` (DOCKER_HOSTS, tcp://). */
export async function startEnginesBalancer(
  cluster: EngineCluster,
  service: string,
  env: Record<string, string | undefined> = {},
): Promise<DiscoveringBalancer> {
  return discovering(
    await startBalancer({
      DISCOVERY: 'docker',
      DOCKER_HOSTS: cluster.engines.map((e) => e.tcpHost).join(','),
      LB_SERVICE: service,
      HEALTH_INTERVAL_MS: '500',
      ...env,
    }),
  );
}

/** One test file's containers on the host engine and the balancer in front of them. */
export interface HostDockerRun {
  /** The run's marker (testRunId): its containers' names start with it. */
  id: string;
  /** Fails the test without an engine; makes the base image the run's `node -e` containers use. */
  require(): void;
  /** `node -e script` on the base image, marked as this run's (runNodeScript). */
  node(opts: Omit<LabelledOptions, 'command' | 'image' | 'run'> & { script: string }): LabelledContainer;
  /** startDockerBalancer, stopped by end(). */
  balancer(env: Record<string, string | undefined>): Promise<DiscoveringBalancer>;
  /** afterAll: the balancer stopped, the run's containers removed. */
  end(): Promise<void>;
}

export function hostDockerRun(prefix: string): HostDockerRun {
  const id = testRunId(prefix);
  let lb: DiscoveringBalancer | undefined;
  return {
    id,
    require() {
      requireDocker();
      ensureBaseImage();
    },
    node: (opts) => runNodeScript({ ...opts, run: id }),
    async balancer(env) {
      lb = await startDockerBalancer(env);
      return lb;
    },
    async end() {
      await lb?.stop();
      removeRun(id);
    },
  };
}

/** One test file's engines (startEngines, in network namespaces) and the balancer over them. */
export interface EnginesRun {
  /** The run's marker (testRunId) for the containers it runs on the engines. */
  id: string;
  /** Starts the engines (in beforeAll, with a long hook timeout). */
  start(): Promise<EngineCluster>;
  /** startEnginesBalancer over them, stopped by end(). */
  balancer(service: string, env?: Record<string, string | undefined>): Promise<DiscoveringBalancer>;
  /** afterAll: the balancer stopped, then the engines and all they ran removed. */
  end(): Promise<void>;
}

export function enginesRun(prefix: string, opts: EngineClusterOptions): EnginesRun {
  const id = testRunId(prefix);
  let cluster: EngineCluster | undefined;
  let lb: DiscoveringBalancer | undefined;
  return {
    id,
    async start() {
      cluster = await startEngines(opts);
      return cluster;
    },
    async balancer(service, env = {}) {
      if (!cluster) throw new Error('enginesRun: start() the engines first');
      lb = await startEnginesBalancer(cluster, service, env);
      return lb;
    },
    async end() {
      await lb?.stop();
      cluster?.stop();
    },
  };
}
