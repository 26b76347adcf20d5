// CPU/memory per backend from PromQL (METRICS_SOURCE=prometheus): each query returns a
// vector whose `backend` label is the backend's id, name or URL.
import type { Logger } from '@headroom/shared';
import { request } from 'undici';
import type { BackendSet, BackendSpec } from '../discovery/backend-set.js';
import type { PublishSample, ResourceSource } from './resource-sample.js';

interface VectorResponse {
  status: string;
  data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

export class PrometheusSource implements ResourceSource {
  private specs: BackendSpec[] = [];
  private readonly timer: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly url: string,
    private readonly cpuQuery: string | undefined,
    private readonly memQuery: string | undefined,
    private readonly publish: PublishSample,
    private readonly logger: Logger,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  update(set: BackendSet): void {
    this.specs = [...set];
  }

  private async query(q: string | undefined): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!q) return out;
    const res = await request(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}`, {
      headersTimeout: 3000,
      bodyTimeout: 3000,
    });
    const text = await res.body.text();
    // an error answer (HTTP or `status: error`, e.g. a bad query) is a failure, not "no data"
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    let body: VectorResponse & { error?: string };
    try {
      body = JSON.parse(text) as VectorResponse & { error?: string };
    } catch {
      throw new Error(`not JSON: ${text.slice(0, 200)}`);
    }
    if (body.status !== 'success') throw new Error(`status ${body.status}: ${body.error ?? 'no error text'}`);
    for (const r of body.data?.result ?? []) {
      const v = Number(r.value[1]);
      const key = r.metric.backend;
      if (key !== undefined && Number.isFinite(v)) out.set(key, v);
    }
    return out;
  }

  private async poll(): Promise<void> {
    try {
      const [cpu, mem] = await Promise.all([this.query(this.cpuQuery), this.query(this.memQuery)]);
      const at = Date.now();
      for (const s of this.specs) {
        const c = cpu.get(s.id) ?? cpu.get(s.name) ?? cpu.get(s.url) ?? null;
        const m = mem.get(s.id) ?? mem.get(s.name) ?? mem.get(s.url) ?? null;
        if (c !== null || m !== null) this.publish({ id: s.id, cpu: c, mem: m, at });
      }
      if (this.failing) {
        this.failing = false;
        this.logger.info({ url: this.url }, 'prometheus queries answer again');
      }
    } catch (err) {
      // one warn when an outage starts, then debug: the interval is short
      const fields = { url: this.url, err: (err as Error).message };
      if (!this.failing) this.logger.warn(fields, 'prometheus query failed; scores go stale');
      else this.logger.debug(fields, 'prometheus query still failing');
      this.failing = true;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }
}
