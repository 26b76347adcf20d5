// Several real Docker engines on one machine, for multi-host and multi-node Swarm tests: each
// engine is its own dockerd (own image store, containers, networks, events) in its own network
// namespace, all attached to one Linux bridge on the host. The platform facts this follows
// (and why each step is there, each one learned from a failed try):
//  - a bridge 10.77.N.1/24, one veth per engine (10.77.N.11, .12, …) and no default route;
//  - the host's Docker sets FORWARD to DROP: one ACCEPT rule for this bridge, removed on teardown;
//  - dockerd started through `nsenter --net` (not `ip netns exec`, which remounts /sys and hides
//    the cgroup mounts) and in its own UTS namespace, so every Swarm node has its own hostname;
//  - nothing can be pulled: images are copied from the host engine with docker save | load.
// Everything a cluster owns is named with one prefix plus a cluster number and recorded in
// STATE_ROOT/c<N> with the owning process' pid: a run that was killed leaves a directory whose
// owner is dead, and the next run removes it (engines, processes, mounts, namespaces, bridge,
// rule) before it starts, so a killed run never poisons the next.

/** Names of every netns, bridge, veth and cgroup a cluster creates start with this. */
export const ENGINE_PREFIX = 'hrme';
/** Where clusters keep their engines' data, sockets and logs (short: unix socket paths are ≤ 107 bytes). */
export const ENGINE_STATE_ROOT = process.env.HEADROOM_ENGINES_DIR ?? '/var/lib/hrme';

export interface EngineClusterOptions {
  /** How many engines (1..20). */
  count: number;
  /** Join them as a Swarm: engine 0 is the manager, the others workers. */
  swarm?: boolean;
  /** Images copied from the host engine into every engine (default: none). */
  images?: readonly string[];
  /** Build the project's images on the host engine first when one of `images` is missing (default true). */
  buildMissingImages?: boolean;
  /**
   * CPUs each engine's containers may use (its cgroup parent's cpuset, e.g. `['0', '1']`;
   * undefined: all). Every engine here shares the machine's cores: pinned, load on one "node"
   * slows only that node's containers, as on separate hosts. Needs the cgroup v1 cpuset controller.
   */
  cpusets?: readonly (string | undefined)[];
}

export interface Engine {
  /** Engine name, also its netns name and hostname (its Swarm node's hostname). */
  name: string;
  index: number;
  /** Its address on the bridge: what a published port is reached at. */
  address: string;
  /** `unix:///…/docker.sock` */
  unixHost: string;
  /** `tcp://ADDR:2375` (plain TCP inside the bridge only; nothing outside reaches it). */
  tcpHost: string;
  /** Runs the docker CLI against this engine; returns trimmed stdout, throws with stderr on failure. */
  docker(...args: string[]): string;
  /** The engine dies the way a host does: dockerd, containerd and every container SIGKILLed. */
  kill(): void;
  /** Whether its dockerd is running. */
  running(): boolean;
  /**
   * dockerd restarted as an operator or an upgrade does it: SIGTERM (it stops its containers),
   * then started again on the same data, sockets and address; resolves once it answers.
   * Containers with a restart policy come back (with new published ports unless fixed).
   */
  restart(): Promise<void>;
}

export interface EngineCluster {
  id: number;
  bridge: string;
  /** The host's address on the bridge (what a process inside an engine reaches the host at). */
  gateway: string;
  engines: Engine[];
  /** How long each start-up phase took, in ms (images, engines, load, swarm): for reports. */
  timings: Record<string, number>;
  /** Removes everything the cluster created. Idempotent, synchronous (also runs on process exit). */
  stop(): void;
}
