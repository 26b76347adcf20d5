// What the engine itself says a container used: its cgroup's cumulative CPU time and when the
// engine read it (a one-shot stats answer, straight from the engine API). A test compares
// what the balancer made of the stats stream against this over the same window, so that it
// holds however much CPU a loaded machine gave the container.
import { request } from 'node:http';

export interface CpuUsage {
  /** Cumulative CPU time of the container, in nanoseconds. */
  totalNs: number;
  /** When the engine read it (ms since the epoch). */
  readAt: number;
}

/** GET on the host engine's API (DOCKER_HOST unix:// or tcp://, else the default socket). */
function engineGet(path: string): Promise<string> {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const tcp = host.startsWith('unix://') ? undefined : new URL(host.replace(/^tcp:/, 'http:'));
  const target = tcp ? { host: tcp.hostname, port: tcp.port } : { socketPath: host.slice('unix://'.length) };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(body)
          : reject(new Error(`engine GET ${path}: ${res.statusCode} ${body}`)),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`engine GET ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The container's CPU time so far, as the engine reads it from its cgroup now. */
export async function containerCpuUsage(idOrName: string): Promise<CpuUsage> {
  const stats = JSON.parse(
    await engineGet(`/containers/${encodeURIComponent(idOrName)}/stats?stream=false&one-shot=true`),
  ) as { read?: string; cpu_stats?: { cpu_usage?: { total_usage?: number } } };
  const totalNs = stats.cpu_stats?.cpu_usage?.total_usage;
  const readAt = stats.read === undefined ? Number.NaN : Date.parse(stats.read);
  if (totalNs === undefined || Number.isNaN(readAt))
    throw new Error(`engine stats of ${idOrName} carry no CPU usage or read time`);
  return { totalNs, readAt };
}

/** Cores the container used between two readings. */
export function coresBetween(a: CpuUsage, b: CpuUsage): number {
  return (b.totalNs - a.totalNs) / 1e6 / (b.readAt - a.readAt);
}
