// startEngines: the cluster's life cycle (network, engines, images, Swarm) and its teardown.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../wait-for.js';
import { claimClusterId, cleanupStaleEngines, destroyCluster } from './cleanup.js';
import { engineLogs, imageArchive, runAsync, startEngineProcess } from './dockerd.js';
import { alive, clusterName, engineAddress, engineDir, engineName, lines, run, tryRun } from './host.js';
import { createNetwork } from './network.js';
import { killEngineProcesses, pinEngine } from './processes.js';
import type { Engine, EngineCluster, EngineClusterOptions } from './types.js';

function engineHandle(id: number, i: number): Engine {
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
    restart: async () => {
      let pid = 0;
      try {
        pid = Number(readFileSync(join(dir, 'dockerd.pid'), 'utf8'));
        process.kill(pid, 'SIGTERM');
      } catch {
        // not running: just start it
      }
      await waitFor(() => pid === 0 || !alive(pid), {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: `dockerd of ${engineName(id, i)} stops`,
      });
      startEngineProcess(id, i);
      await waitFor(() => spawnSync('docker', ['-H', unixHost, 'info'], { stdio: 'ignore' }).status === 0, {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: `dockerd of ${engineName(id, i)} answers again`,
      });
    },
  };
}

/** Graceful first: a Swarm node that leaves and a dockerd that stops its containers leave no
 * mounts behind; whatever survives is killed and unmounted by destroyCluster. */
function stopCluster(id: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const sock = join(engineDir(id, i), 'docker.sock');
    if (existsSync(sock)) tryRun('docker', ['-H', `unix://${sock}`, 'swarm', 'leave', '--force'], 20_000);
  }
  const pidFiles = Array.from({ length: count }, (_, i) => join(engineDir(id, i), 'dockerd.pid'));
  const pidOf = (f: string) => {
    try {
      return Number(readFileSync(f, 'utf8'));
    } catch {
      return 0;
    }
  };
  for (const f of pidFiles) {
    try {
      process.kill(pidOf(f), 'SIGTERM');
    } catch {
      // not running
    }
  }
  const deadline = Date.now() + 20_000;
  while (pidFiles.some((f) => pidOf(f) > 0 && alive(pidOf(f))) && Date.now() < deadline) {
    spawnSync('sleep', ['0.2']);
  }
  destroyCluster(id);
}

async function joinSwarm(engines: Engine[]): Promise<void> {
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
      lines(manager.docker('node', 'ls', '--format', '{{.Status}}')).filter((s) => s === 'Ready').length ===
      engines.length,
    { timeoutMs: 60_000, intervalMs: 500, message: 'every Swarm node ready' },
  );
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
    stopCluster(id, opts.count);
  };
  process.once('exit', stop);
  const engines = Array.from({ length: opts.count }, (_, i) => engineHandle(id, i));
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
      await joinSwarm(engines);
      phase('swarm');
    }
  } catch (err) {
    const why = `${(err as Error).message}\n${engineLogs(id, engines)}`;
    stop();
    throw new Error(why);
  }
  return { id, bridge: clusterName(id), gateway: `10.77.${id}.1`, engines, timings, stop };
}
