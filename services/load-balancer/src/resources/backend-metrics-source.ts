// Scrapes each backend's own /metrics (static discovery, or no Docker access): CPU is the
// growth of process_cpu_seconds_total over the scrape interval divided by the CPU limit
// the backend reports; memory is resident memory over its memory limit.
import { BACKEND_METRICS, type Logger } from '@headroom/shared';
import { request } from 'undici';
import type { BackendSet, BackendSpec } from '../discovery/backend-set.js';
import { sampleValue } from './prometheus-text.js';
import type { PublishSample, ResourceSource } from './resource-sample.js';

interface Previous {
  cpuSeconds: number;
  at: number;
}

export class BackendMetricsSource implements ResourceSource {
  private specs: BackendSpec[] = [];
  private readonly previous = new Map<string, Previous>();
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
      const cpuSeconds = sampleValue(text, 'process_cpu_seconds_total');
      const limit = sampleValue(text, BACKEND_METRICS.cpuLimit) ?? spec.cpuLimit;
      const rss = sampleValue(text, 'process_resident_memory_bytes');
      const memLimit = sampleValue(text, BACKEND_METRICS.memoryLimit) ?? spec.memoryLimit;
      let cpu: number | null = null;
      const prev = this.previous.get(spec.id);
      if (cpuSeconds !== undefined) {
        if (prev && at > prev.at && limit)
          cpu = Math.max(0, (cpuSeconds - prev.cpuSeconds) / ((at - prev.at) / 1000) / limit);
        this.previous.set(spec.id, { cpuSeconds, at });
      }
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
