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
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './service-process.js';
import { waitFor } from './wait-for.js';

/** Names of every netns, bridge, veth and cgroup a cluster creates start with this. */
export const ENGINE_PREFIX = 'hrme';
/** Where clusters keep their engines' data, sockets and logs (short: unix socket paths are ≤ 107 bytes). */
export const ENGINE_STATE_ROOT = process.env.HEADROOM_ENGINES_DIR ?? '/var/lib/hrme';
/** The project's images, as deploy/build-images.sh tags them. */
export const PROJECT_IMAGES = [
  'headroom/backend:latest',
  'headroom/load-balancer:latest',
  'headroom/autoscaler:latest',
] as const;

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

const lines = (s: string) => s.split('\n').filter(Boolean);

function run(cmd: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${res.status ?? res.signal}): ${(res.stderr || res.stdout || String(res.error ?? '')).trim()}`,
    );
  }
  return res.stdout.trim();
}

/** Runs a cleanup step; a step that has nothing to clean fails harmlessly. */
function tryRun(cmd: string, args: string[], timeoutMs = 30_000): void {
  spawnSync(cmd, args, { stdio: 'ignore', timeout: timeoutMs });
}

/** A process that exists and is not a zombie (a killed dockerd stays one until its parent reaps it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S …": the state follows the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const clusterName = (id: number) => `${ENGINE_PREFIX}${id}`;
const engineName = (id: number, i: number) => `${ENGINE_PREFIX}${id}-${i}`;
const engineDir = (id: number, i: number) => join(ENGINE_STATE_ROOT, `c${id}`, `e${i}`);
const engineAddress = (id: number, i: number) => `10.77.${id}.${11 + i}`;

/** Every cgroup directory (all v1 controllers, or the v2 tree) named `parent` at the top level. */
function cgroupDirs(parent: string): string[] {
  const root = '/sys/fs/cgroup';
  if (existsSync(join(root, 'cgroup.controllers'))) return [join(root, parent)].filter(existsSync);
  return readdirSync(root)
    .map((c) => join(root, c, parent))
    .filter((d) => existsSync(d));
}

/** Pids of every process in a cgroup tree (depth-first). */
function cgroupPids(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
    }
    try {
      for (const p of lines(readFileSync(join(d, 'cgroup.procs'), 'utf8'))) out.push(Number(p));
    } catch {
      // a cgroup removed while walking
    }
  };
  try {
    walk(dir);
  } catch {
    // gone already
  }
  return out;
}

function removeCgroupTree(dir: string): void {
  const walk = (d: string) => {
    try {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(d, entry.name));
      }
      // cgroupfs directories go with rmdir (their files cannot be unlinked)
      rmdirSync(d);
    } catch {
      // still busy or gone: the next stale cleanup retries
    }
  };
  walk(dir);
}

/** SIGKILLs every process of one engine: the ones in its netns (dockerd, containerd, shims)
 * and the ones in its cgroup parent (the containers, which have network namespaces of their own). */
function killEngineProcesses(ns: string, dataDir: string): void {
  const pids = new Set<number>();
  try {
    for (const p of lines(readFileSync(join(dataDir, 'dockerd.pid'), 'utf8'))) pids.add(Number(p));
  } catch {
    // never started, or removed its pidfile on a clean exit
  }
  const res = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' });
  if (res.status === 0) for (const p of lines(res.stdout)) pids.add(Number(p));
  for (const dir of cgroupDirs(ns)) for (const p of cgroupPids(dir)) pids.add(p);
  for (const pid of pids) {
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited already
    }
  }
  const deadline = Date.now() + 10_000;
  while ([...pids].some((p) => p > 1 && alive(p)) && Date.now() < deadline) {
    spawnSync('sleep', ['0.1']);
  }
}

/** Unmounts everything under `dir` (overlay layers, netns bind mounts, shm of a killed engine). */
function unmountUnder(dir: string): void {
  const mounts = lines(readFileSync('/proc/self/mounts', 'utf8'))
    .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) tryRun('umount', ['-l', m]);
}

function removeNetwork(id: number, engineCount: number): void {
  const bridge = clusterName(id);
  for (let i = 0; i < engineCount; i++) {
    tryRun('ip', ['link', 'del', `${bridge}v${i}`]);
    tryRun('ip', ['netns', 'del', engineName(id, i)]);
  }
  tryRun('ip', ['link', 'del', bridge]);
  // -D removes one copy: loop in case an earlier run was killed between two inserts
  for (let n = 0; n < 5; n++) {
    const res = spawnSync('iptables', ['-D', 'FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT'], {
      stdio: 'ignore',
    });
    if (res.status !== 0) break;
  }
}

/** Removes one cluster's leftovers by id, whether its engines are running or not. */
function destroyCluster(id: number): void {
  const dir = join(ENGINE_STATE_ROOT, `c${id}`);
  const engines = existsSync(dir)
    ? readdirSync(dir)
        .filter((e) => /^e\d+$/.test(e))
        .map((e) => Number(e.slice(1)))
    : [];
  const count = Math.max(engines.length === 0 ? 0 : Math.max(...engines) + 1, 20);
  for (let i = 0; i < count; i++) {
    const ns = engineName(id, i);
    if (!existsSync(`/var/run/netns/${ns}`) && !existsSync(engineDir(id, i))) continue;
    killEngineProcesses(ns, engineDir(id, i));
    for (const cg of cgroupDirs(ns)) removeCgroupTree(cg);
  }
  unmountUnder(dir);
  removeNetwork(id, count);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Removes clusters left by runs that died without tearing down (their owner process is gone),
 * and netns/bridges with the prefix that no live cluster owns. Live clusters of other test
 * processes running now are left alone.
 */
export function cleanupStaleEngines(): number[] {
  const removed: number[] = [];
  const live = new Set<number>();
  if (existsSync(ENGINE_STATE_ROOT)) {
    for (const entry of readdirSync(ENGINE_STATE_ROOT)) {
      const m = /^c(\d+)$/.exec(entry);
      if (!m) continue;
      const id = Number(m[1]);
      let owner = 0;
      try {
        owner = Number(readFileSync(join(ENGINE_STATE_ROOT, entry, 'owner'), 'utf8'));
      } catch {
        // a directory being created right now has no owner file for a moment: judge it by age
        const age = Date.now() - statSync(join(ENGINE_STATE_ROOT, entry)).mtimeMs;
        if (age < 60_000) {
          live.add(id);
          continue;
        }
      }
      if (owner > 0 && alive(owner)) {
        live.add(id);
        continue;
      }
      destroyCluster(id);
      removed.push(id);
    }
  }
  // Namespaces and bridges without a state directory (the directory was removed by hand).
  const orphans = new Set<number>();
  const nsList = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const l of lines(nsList)) {
    const m = new RegExp(`^${ENGINE_PREFIX}(\\d+)-\\d+`).exec(l);
    if (m) orphans.add(Number(m[1]));
  }
  const links = spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout ?? '';
  for (const l of lines(links)) {
    const m = new RegExp(`^\\d+: ${ENGINE_PREFIX}(\\d+):`).exec(l);
    if (m) orphans.add(Number(m[1]));
  }
  for (const id of orphans) {
    if (live.has(id) || removed.includes(id)) continue;
    destroyCluster(id);
    removed.push(id);
  }
  return removed;
}

/** Claims a free cluster number: mkdir is atomic, so two test processes never get the same one. */
function claimClusterId(): number {
  mkdirSync(ENGINE_STATE_ROOT, { recursive: true });
  for (let id = 1; id < 250; id++) {
    const dir = join(ENGINE_STATE_ROOT, `c${id}`);
    try {
      mkdirSync(dir);
    } catch {
      continue;
    }
    writeFileSync(join(dir, 'owner'), String(process.pid));
    return id;
  }
  throw new Error(`no free engine cluster number under ${ENGINE_STATE_ROOT}`);
}

function hostImageId(image: string): string | undefined {
  const res = spawnSync('docker', ['image', 'inspect', '-f', '{{.Id}}', image], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

/**
 * One tar of the images, kept under STATE_ROOT keyed by their ids: several clusters in a row
 * (and several engines) load the same file instead of saving again.
 */
function imageArchive(images: readonly string[], buildMissing: boolean): string {
  let ids = images.map(hostImageId);
  if (ids.some((i) => i === undefined) && buildMissing) {
    const missing = images.filter((_, i) => ids[i] === undefined);
    const services = missing
      .map((img) => /^headroom\/(backend|load-balancer|autoscaler):latest$/.exec(img)?.[1])
      .filter((s): s is string => s !== undefined);
    if (services.length > 0) {
      execFileSync('bash', [join(repoRoot, 'deploy/build-images.sh'), ...services], { stdio: 'inherit' });
    }
    ids = images.map(hostImageId);
  }
  const missing = images.filter((_, i) => ids[i] === undefined);
  if (missing.length > 0) {
    throw new Error(`images not on the host engine: ${missing.join(', ')} (bash deploy/build-images.sh)`);
  }
  const key = createHash('sha256')
    .update(images.map((img, i) => `${img}=${ids[i]}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const dir = join(ENGINE_STATE_ROOT, 'images');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${key}.tar`);
  if (!existsSync(file)) {
    // keep only the newest archive: old ones are hundreds of MB each
    for (const old of readdirSync(dir)) if (old.endsWith('.tar')) rmSync(join(dir, old), { force: true });
    const tmp = `${file}.${process.pid}.tmp`;
    run('docker', ['save', '-o', tmp, ...images], { timeoutMs: 300_000 });
    renameSync(tmp, file);
  }
  return file;
}

function startEngineProcess(id: number, i: number): void {
  const ns = engineName(id, i);
  const dir = engineDir(id, i);
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'exec'), { recursive: true });
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  // Its own config file (not the host's /etc/docker/daemon.json) and its own identity key: with
  // the shared /etc/docker/key.json every engine reported the host engine's ID.
  writeFileSync(join(dir, 'daemon.json'), JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') }));
  const dockerd = [
    'dockerd',
    '--config-file',
    join(dir, 'daemon.json'),
    '--data-root',
    join(dir, 'data'),
    '--exec-root',
    join(dir, 'exec'),
    '--pidfile',
    join(dir, 'dockerd.pid'),
    '-H',
    `unix://${join(dir, 'docker.sock')}`,
    '-H',
    `tcp://${engineAddress(id, i)}:2375`,
    // said explicitly: without it dockerd 20.10 sleeps 15 s at start to warn about plain TCP
    '--tls=false',
    // its containers in a cgroup tree of their own: killed with the engine, not with the host's
    '--cgroup-parent',
    `/${ns}`,
    '--log-level',
    'warn',
  ];
  // Detached: a test process that dies leaves the engine to the next run's stale cleanup
  // instead of taking half of it down.
  const child = spawn(
    'nsenter',
    [
      `--net=/var/run/netns/${ns}`,
      'unshare',
      '--uts',
      'sh',
      '-c',
      `hostname ${ns} && exec "$@"`,
      'sh',
      ...dockerd,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  closeSync(log);
}

/** Pins an engine's containers to `cpus`: its cgroup parent exists before dockerd creates a
 * container under it, so runc's cgroups copy this cpuset instead of the root's. */
function pinEngine(ns: string, cpus: string): void {
  const root = '/sys/fs/cgroup/cpuset';
  if (!existsSync(join(root, 'cpuset.cpus'))) {
    throw new Error('startEngines cpusets: needs the cgroup v1 cpuset controller at /sys/fs/cgroup/cpuset');
  }
  const dir = join(root, ns);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cpuset.mems'), readFileSync(join(root, 'cpuset.mems')));
  writeFileSync(join(dir, 'cpuset.cpus'), cpus);
}

function createNetwork(id: number, count: number): void {
  const bridge = clusterName(id);
  run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  run('ip', ['addr', 'add', `10.77.${id}.1/24`, 'dev', bridge]);
  run('ip', ['link', 'set', bridge, 'up']);
  // The host's Docker sets FORWARD to DROP; without this, engine-to-engine traffic (swarm join
  // on 2377, gossip, the overlay's VXLAN) is dropped.
  run('iptables', ['-I', 'FORWARD', '-i', bridge, '-o', bridge, '-j', 'ACCEPT']);
  for (let i = 0; i < count; i++) {
    const ns = engineName(id, i);
    const hostEnd = `${bridge}v${i}`;
    const inner = `${bridge}e${i}`;
    run('ip', ['netns', 'add', ns]);
    run('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', inner]);
    run('ip', ['link', 'set', hostEnd, 'master', bridge]);
    run('ip', ['link', 'set', hostEnd, 'up']);
    run('ip', ['link', 'set', inner, 'netns', ns]);
    const inNs = (...args: string[]) => run('ip', ['-n', ns, ...args]);
    inNs('link', 'set', 'lo', 'up');
    inNs('link', 'set', inner, 'name', 'eth0');
    inNs('addr', 'add', `${engineAddress(id, i)}/24`, 'dev', 'eth0');
    inNs('link', 'set', 'eth0', 'up');
    // No default route on purpose: nothing outside the bridge is a target, and a pull the
    // engine tries (a Swarm task's image is re-resolved on every node) fails at once with
    // "network unreachable" instead of hanging ~20 s on a route that leads nowhere.
  }
}

async function runAsync(cmd: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${err.trim()}`)),
    );
  });
}

/**
 * Starts `count` engines (stale leftovers of killed runs are removed first), copies `images`
 * into each and, with `swarm`, joins them as one manager and workers. On any failure it removes
 * what it created and throws with the engines' logs. Call `stop()` in afterAll; it also runs when
 * the process exits.
 */
export async function startEngines(opts: EngineClusterOptions): Promise<EngineCluster> {
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 20) {
    throw new Error(`startEngines: count must be 1..20, got ${opts.count}`);
  }
  if (process.getuid?.() !== 0) throw new Error('startEngines needs root (network namespaces, dockerd)');
  const timings: Record<string, number> = {};
  let t0 = Date.now();
  const phase = (name: string) => {
    timings[name] = Date.now() - t0;
    t0 = Date.now();
  };
  cleanupStaleEngines();
  phase('staleCleanup');
  const archive = opts.images?.length
    ? imageArchive(opts.images, opts.buildMissingImages ?? true)
    : undefined;
  phase('imageArchive');
  const id = claimClusterId();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    // Graceful first: a Swarm node that leaves and a dockerd that stops its containers leave
    // no mounts behind; whatever survives is killed and unmounted by destroyCluster.
    for (let i = 0; i < opts.count; i++) {
      const sock = `unix://${join(engineDir(id, i), 'docker.sock')}`;
      if (!existsSync(join(engineDir(id, i), 'docker.sock'))) continue;
      tryRun('docker', ['-H', sock, 'swarm', 'leave', '--force'], 20_000);
    }
    for (let i = 0; i < opts.count; i++) {
      try {
        const pid = Number(readFileSync(join(engineDir(id, i), 'dockerd.pid'), 'utf8'));
        process.kill(pid, 'SIGTERM');
      } catch {
        // not running
      }
    }
    const deadline = Date.now() + 20_000;
    const stillRunning = () =>
      Array.from({ length: opts.count }, (_, i) => join(engineDir(id, i), 'dockerd.pid')).some((f) => {
        try {
          return alive(Number(readFileSync(f, 'utf8')));
        } catch {
          return false;
        }
      });
    while (stillRunning() && Date.now() < deadline) spawnSync('sleep', ['0.2']);
    destroyCluster(id);
  };
  process.once('exit', stop);

  const engines: Engine[] = Array.from({ length: opts.count }, (_, i) => {
    const dir = engineDir(id, i);
    const unixHost = `unix://${join(dir, 'docker.sock')}`;
    return {
      name: engineName(id, i),
      index: i,
      address: engineAddress(id, i),
      unixHost,
      tcpHost: `tcp://${engineAddress(id, i)}:2375`,
      docker: (...args: string[]) => run('docker', ['-H', unixHost, ...args], { timeoutMs: 120_000 }),
      kill: () => killEngineProcesses(engineName(id, i), dir),
      running: () => {
        try {
          return alive(Number(readFileSync(join(dir, 'dockerd.pid'), 'utf8')));
        } catch {
          return false;
        }
      },
    };
  });
  const logs = () =>
    engines
      .map((e) => {
        try {
          const text = readFileSync(join(engineDir(id, e.index), 'dockerd.log'), 'utf8');
          return `--- ${e.name} dockerd.log\n${text.split('\n').slice(-15).join('\n')}`;
        } catch {
          return `--- ${e.name}: no log`;
        }
      })
      .join('\n');

  try {
    createNetwork(id, opts.count);
    opts.cpusets?.forEach((cpus, i) => {
      if (cpus !== undefined && i < opts.count) pinEngine(engineName(id, i), cpus);
    });
    for (let i = 0; i < opts.count; i++) startEngineProcess(id, i);
    for (const e of engines) {
      await waitFor(() => spawnSync('docker', ['-H', e.unixHost, 'info'], { stdio: 'ignore' }).status === 0, {
        timeoutMs: 60_000,
        intervalMs: 250,
        message: `engine ${e.name} answers`,
      });
    }
    phase('engines');
    if (archive) {
      // In parallel: loading is disk-bound per engine, and two engines overlap well on two cores.
      await Promise.all(
        engines.map((e) => runAsync('docker', ['-H', e.unixHost, 'load', '-q', '-i', archive])),
      );
      phase('imageLoad');
    }
    if (opts.swarm) {
      const [manager, ...workers] = engines as [Engine, ...Engine[]];
      manager.docker(
        'swarm',
        'init',
        '--advertise-addr',
        manager.address,
        '--listen-addr',
        `${manager.address}:2377`,
      );
      const token = manager.docker('swarm', 'join-token', '-q', 'worker');
      for (const w of workers) {
        w.docker('swarm', 'join', '--token', token, '--advertise-addr', w.address, `${manager.address}:2377`);
      }
      await waitFor(
        () =>
          lines(manager.docker('node', 'ls', '--format', '{{.Status}}')).filter((s) => s === 'Ready')
            .length === opts.count,
        { timeoutMs: 60_000, intervalMs: 500, message: 'every Swarm node ready' },
      );
      phase('swarm');
    }
  } catch (err) {
    const why = `${(err as Error).message}\n${logs()}`;
    stop();
    throw new Error(why);
  }
  return { id, bridge: clusterName(id), gateway: `10.77.${id}.1`, engines, timings, stop };
}
