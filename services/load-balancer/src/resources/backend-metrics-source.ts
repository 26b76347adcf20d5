// Scrapes each backend's own /metrics (static discovery, or no Docker access). CPU
// utilization is the larger of two rates over the scrape interval (backendCpuUtilization):
// process CPU over the CPU limit the backend reports (its cgroup quota: every thread,
// burner included, shares it), and the event loop's busy time (request work runs on that
// one thread, so a saturated backend reads ~1 on any number of cores, where CPU ÷ host cores
// read 50 % on 2 cores and 12 % on 8). Memory is resident memory over its memory limit.
import { BACKEND_METRICS, type Logger } from '@headroom/shared';
import { request } from 'undici';
import type { BackendSet, BackendSpec } from '../discovery/backend-set.js';
import { sampleValue } from './prometheus-text.js';
import type { PublishSample, ResourceSource } from './resource-sample.js';

/** The counters of one scrape, and when it was taken (ms). */
export interface BackendCounters {
  at: number;
  cpuSeconds?: number | undefined;
  loopActiveSeconds?: number | undefined;
}

/**
 * Pure: utilization 0..1 (above 1 only briefly, past a quota) between two scrapes, or null
 * when neither rate can be computed. max, not a mix: a backend is out of headroom when its
 * quota is used up (a burner, other threads) OR its event loop is (request work); either alone
 * slows the next request. The event-loop rate is clamped to 1 (it is a fraction of wall time).
 */
export function backendCpuUtilization(
  prev: BackendCounters | undefined,
  cur: BackendCounters,
  cpuLimit: number | undefined,
): number | null {
  if (!prev || cur.at <= prev.at) return null;
  const seconds = (cur.at - prev.at) / 1000;
  const rates: number[] = [];
  if (cpuLimit && cpuLimit > 0 && cur.cpuSeconds !== undefined && prev.cpuSeconds !== undefined)
    rates.push(Math.max(0, cur.cpuSeconds - prev.cpuSeconds) / seconds / cpuLimit);
  if (cur.loopActiveSeconds !== undefined && prev.loopActiveSeconds !== undefined)
    rates.push(Math.min(1, Math.max(0, cur.loopActiveSeconds - prev.loopActiveSeconds) / seconds));
  return rates.length === 0 ? null : Math.max(...rates);
}

export class BackendMetricsSource implements ResourceSource {
  private specs: BackendSpec[] = [];
  private readonly previous = new Map<string, BackendCounters>();
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly publish: PublishSample,
    private readonly logger: Logger,
    intervalMs: number,
    private readonly only?: (spec: BackendSpec) => boolean,
  ) {
    this.timer = setInterval(() => void this.scrapeAll(), intervalMs);
    this.timer.unref();
  }

  update(set: BackendSet): void {
    this.specs = this.only ? set.filter(this.only) : [...set];
    const ids = new Set(this.specs.map((s) => s.id));
    for (const id of this.previous.keys()) if (!ids.has(id)) this.previous.delete(id);
  }

  private async scrapeAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await Promise.all(this.specs.map((s) => this.scrape(s)));
    } finally {
      this.running = false;
    }
  }

  private async scrape(spec: BackendSpec): Promise<void> {
    try {
      const res = await request(`${spec.url}/metrics`, { headersTimeout: 2000, bodyTimeout: 2000 });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return;
      }
      const text = await res.body.text();
      const at = Date.now();
      const counters: BackendCounters = {
        at,
        cpuSeconds: sampleValue(text, 'process_cpu_seconds_total'),
        loopActiveSeconds: sampleValue(text, BACKEND_METRICS.eventLoopActive),
      };
      const limit = sampleValue(text, BACKEND_METRICS.cpuLimit) ?? spec.cpuLimit;
      const rss = sampleValue(text, 'process_resident_memory_bytes');
      const memLimit = sampleValue(text, BACKEND_METRICS.memoryLimit) ?? spec.memoryLimit;
      const cpu = backendCpuUtilization(this.previous.get(spec.id), counters, limit);
      if (counters.cpuSeconds !== undefined || counters.loopActiveSeconds !== undefined)
        this.previous.set(spec.id, counters);
      const mem = rss !== undefined && memLimit ? rss / memLimit : null;
      if (cpu !== null || mem !== null) this.publish({ id: spec.id, cpu, mem, at });
    } catch (err) {
      this.logger.debug({ backend: spec.id, err: (err as Error).message }, 'metrics scrape failed');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }
}
