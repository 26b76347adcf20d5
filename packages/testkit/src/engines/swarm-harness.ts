// A Swarm of the multi-engine harness with the real balancer in front, as the Swarm tests share
// it: engines joined as a Swarm (engine 0 the manager), one attachable overlay network, the
// balancer image run as a container on the manager, on that network (it reaches the tasks by
// their overlay addresses, which nothing outside the engines can), with Swarm discovery of the
// manager's socket, and its proxy and admin ports published on the manager's bridge address
// as 8080 and 8081 (the manager's network namespace is the cluster's own, so the ports are
// free, and they stay the same across a restart of the balancer).
// Services are created on the manager with `createSwarmService`. One harness per test file:
// each costs a few seconds of engine start and an image load per engine.
import { spawnSync } from 'node:child_process';
import { BASE_IMAGE, ensureBaseImage } from '../docker/images.js';
import { waitFor } from '../wait-for.js';
import { startEngines } from './start.js';
import type { Engine, EngineCluster } from './types.js';

/** The balancer image the Swarm tests run (deploy/build-images.sh, from the working tree in CI). */
export const SWARM_LB_IMAGE = 'headroom/load-balancer:latest';

export interface SwarmHarnessOptions {
  /** Swarm nodes (1: a one-node Swarm; 2: a manager and a worker). */
  nodes: number;
  /** The overlay network every service and the balancer share. */
  network: string;
  /** The balancer container's name. */
  balancerName: string;
  /** The balancer's ADMIN_TOKEN. */
  token: string;
  /**
   * More balancer environment (DISCOVERY, DOCKER_NETWORK and ADMIN_TOKEN are set here); a
   * function when it needs the cluster (its gateway: how a container reaches the host).
   */
  balancerEnv?: Record<string, string> | ((cluster: EngineCluster) => Record<string, string>);
  /** More images every engine needs (the base image and the balancer's are always loaded). */
  images?: readonly string[];
}

export interface SwarmHarness {
  cluster: EngineCluster;
  manager: Engine;
  workers: Engine[];
  network: string;
  /** http://MANAGER:PORT of the balancer's proxy and admin API. */
  proxy: string;
  admin: string;
  /** The balancer container's last log lines (for a failing test's message). */
  balancerLogs(tail?: number): string;
  /** The balancer stopped and started again (same ports, same environment); resolves once its admin API answers. */
  restartBalancer(): Promise<void>;
  stop(): void;
}

/** The host port an engine published for a container's port, as a URL on the engine's address. */
export function publishedUrl(engine: Engine, container: string, port: number): string {
  const hostPort = engine.docker('port', container, `${port}/tcp`).split('\n')[0]?.split(':').at(-1);
  if (!hostPort) throw new Error(`${container} publishes no port for ${port}/tcp`);
  return `http://${engine.address}:${hostPort}`;
}

export async function startSwarmHarness(opts: SwarmHarnessOptions): Promise<SwarmHarness> {
  ensureBaseImage();
  const cluster = await startEngines({
    count: opts.nodes,
    swarm: true,
    images: [BASE_IMAGE, SWARM_LB_IMAGE, ...(opts.images ?? [])],
  });
  const [manager, ...workers] = cluster.engines as [Engine, ...Engine[]];
  const balancerLogs = (tail = 60) => {
    const res = spawnSync(
      'docker',
      ['-H', manager.unixHost, 'logs', '--tail', String(tail), opts.balancerName],
      {
        encoding: 'utf8',
      },
    );
    return `${res.stdout}${res.stderr}`;
  };
  try {
    manager.docker('network', 'create', '--driver', 'overlay', '--attachable', opts.network);
    const env = {
      DISCOVERY: 'swarm',
      DOCKER_NETWORK: opts.network,
      ADMIN_TOKEN: opts.token,
      ...(typeof opts.balancerEnv === 'function' ? opts.balancerEnv(cluster) : opts.balancerEnv),
    };
    const run = () =>
      manager.docker(
        'run',
        '--detach',
        '--name',
        opts.balancerName,
        // the manager's socket is root's
        '--user',
        '0:0',
        '--network',
        opts.network,
        '-v',
        `${manager.unixHost.replace(/^unix:\/\//, '')}:/var/run/docker.sock`,
        '-p',
        '8080:8080',
        '-p',
        '8081:8081',
        ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
        SWARM_LB_IMAGE,
      );
    run();

    const proxy = publishedUrl(manager, opts.balancerName, 8080);
    const admin = publishedUrl(manager, opts.balancerName, 8081);
    const ready = () =>
      waitFor(async () => (await fetch(`${admin}/healthz`)).ok, {
        timeoutMs: 30_000,
        message: 'balancer up',
      }).catch((err: Error) => {
        throw new Error(`${err.message}\n--- balancer logs ---\n${balancerLogs()}`);
      });
    await ready();
    // removed and run again rather than `docker restart`: a stopped container's attachment to an
    // attachable overlay goes when no other container of that node is on the network, and the
    // restart then fails with "network … not found"; `run` attaches it by name again
    const restartBalancer = async () => {
      manager.docker('rm', '--force', opts.balancerName);
      run();
      await ready();
    };
    return {
      cluster,
      manager,
      workers,
      network: opts.network,
      proxy,
      admin,
      balancerLogs,
      restartBalancer,
      stop: cluster.stop,
    };
  } catch (err) {
    cluster.stop();
    throw err;
  }
}

export interface SwarmServiceOptions {
  name: string;
  network: string;
  replicas: number;
  /** Service (spec) labels: lb.*, autoscale.* */
  labels: Record<string, string>;
  /** More `docker service create` flags (e.g. `--stop-grace-period 1ms`). */
  flags?: readonly string[];
  /** Image and command (default: the base image running `node -e SCRIPT`). */
  image?: string;
  command: readonly string[];
}

/** Creates a replicated service on the manager, dnsrr (these machines have no IPVS for VIPs). */
export function createSwarmService(manager: Engine, opts: SwarmServiceOptions): void {
  manager.docker(
    'service',
    'create',
    '--detach',
    '--name',
    opts.name,
    '--replicas',
    String(opts.replicas),
    '--network',
    opts.network,
    '--endpoint-mode',
    'dnsrr',
    ...(opts.flags ?? []),
    ...Object.entries(opts.labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
    opts.image ?? BASE_IMAGE,
    ...opts.command,
  );
}
