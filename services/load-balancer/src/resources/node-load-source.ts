// Per-node load (NODE_CPU_QUERY): a task's CPU headroom is no larger than its node's. Wraps
// the configured resource source: every sample of a backend that carries a node (Swarm tasks)
// has its CPU raised to the node's busy fraction when that is higher and fresh, so resource-
// aware mode prices a task on a busy node as a busy backend (pressure, and the capacity it
// learns per CPU) before its own numbers show it. The node figure comes from a PromQL vector
// with a `node` label (the node's hostname or id), e.g. node-exporter through Prometheus:
//   1 - avg by (node) (rate(node_cpu_seconds_total{mode="idle"}[30s]))
// Backends without a node, and nodes without a fresh figure, pass through unchanged.
import type { Logger } from '@headroom/shared';
import { request } from 'undici';
import type { BackendSet } from '../discovery/backend-set.js';
import type { PublishSample, ResourceSample, ResourceSource } from './resource-sample.js';

export interface NodeBusy {
  /** 0..1 of the node's CPU in use. */
  busy: number;
  /** ms since epoch when read. */
  at: number;
}

/** Pure: a backend's sample with its node's load applied (CPU = max(own, node) while the node figure is fresh). */
export function withNodeLoad(
  sample: ResourceSample,
  node: NodeBusy | undefined,
  now: number,
  maxAgeMs: number,
): ResourceSample {
  if (node === undefined || now - node.at > maxAgeMs || !Number.isFinite(node.busy)) return sample;
  const busy = Math.min(1, Math.max(0, node.busy));
  if (sample.cpu !== null && sample.cpu >= busy) return sample;
  return { ...sample, cpu: busy };
}

/** Pure: a Prometheus vector → busy fraction per `node` label value (the highest when a node repeats). */
export function nodeBusyFromVector(
  result: ReadonlyArray<{ metric: Record<string, string>; value: [number, string] }>,
  at: number,
): Map<string, NodeBusy> {
  const out = new Map<string, NodeBusy>();
  for (const r of result) {
    const node = r.metric.node;
    const v = Number(r.value[1]);
    if (node === undefined || !Number.isFinite(v)) continue;
    const prev = out.get(node);
    if (prev === undefined || v > prev.busy) out.set(node, { busy: v, at });
  }
  return out;
}

export interface NodeLoadOptions {
  prometheusUrl: string;
  query: string;
  intervalMs: number;
  /** A node figure older than this is ignored (METRICS_STALE_MS). */
  maxAgeMs: number;
  logger: Logger;
  now?: () => number;
}

export class NodeLoadSource implements ResourceSource {
  private readonly inner: ResourceSource;
  private readonly timer: NodeJS.Timeout;
  private nodeOf = new Map<string, string[]>();
  private busy = new Map<string, NodeBusy>();
  private failing = false;
  private readonly now: () => number;

  constructor(
    makeInner: (publish: PublishSample) => ResourceSource,
    private readonly publish: PublishSample,
    private readonly opts: NodeLoadOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.inner = makeInner((s) => this.publish(this.adjust(s)));
    this.timer = setInterval(() => void this.poll(), opts.intervalMs);
    this.timer.unref();
  }

  /** The load of the node a backend runs on, when known (for logs and tests). */
  nodeBusy(id: string): NodeBusy | undefined {
    for (const key of this.nodeOf.get(id) ?? []) {
      const b = this.busy.get(key);
      if (b) return b;
    }
    return undefined;
  }

  private adjust(s: ResourceSample): ResourceSample {
    return withNodeLoad(s, this.nodeBusy(s.id), this.now(), this.opts.maxAgeMs);
  }

  update(set: BackendSet): void {
    // matched by hostname or node id, whichever the query's `node` label carries
    this.nodeOf = new Map(
      set
        .filter((s) => s.node !== undefined || s.nodeName !== undefined)
        .map((s) => [s.id, [s.nodeName, s.node].filter((k): k is string => k !== undefined)]),
    );
    this.inner.update(set);
  }

  private async poll(): Promise<void> {
    try {
      const res = await request(
        `${this.opts.prometheusUrl}/api/v1/query?query=${encodeURIComponent(this.opts.query)}`,
        { headersTimeout: 3000, bodyTimeout: 3000 },
      );
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
      const body = JSON.parse(text) as {
        status: string;
        error?: string;
        data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      if (body.status !== 'success')
        throw new Error(`status ${body.status}: ${body.error ?? 'no error text'}`);
      this.busy = nodeBusyFromVector(body.data?.result ?? [], this.now());
      if (this.failing) {
        this.failing = false;
        this.opts.logger.info({ nodes: this.busy.size }, 'node load query answers again');
      }
    } catch (err) {
      // one warn per outage; the figures age out after maxAgeMs and samples pass through
      if (!this.failing)
        this.opts.logger.warn(
          { err: (err as Error).message, query: this.opts.query },
          'node load query failed; tasks are priced by their own numbers until it answers',
        );
      this.failing = true;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inner.stop();
  }
}
