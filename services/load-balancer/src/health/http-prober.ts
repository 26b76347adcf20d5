// Active health checks: GET <url><healthPath> for every backend on one shared timer.
// A backend that just appeared is probed at once and then every 100 ms until its
// first pass, so a started container takes traffic well under a second after it shows up.
import type { Logger } from '@headroom/shared';
import { Agent, request } from 'undici';
import type { BackendSet, BackendSpec } from '../discovery/backend-set.js';

export interface ProbeSettings {
  intervalMs: number;
  timeoutMs: number;
}

const FAST_RETRY_MS = 100;

export class HttpProber {
  private specs = new Map<string, BackendSpec>();
  private readonly newcomers = new Set<string>();
  private readonly inProgress = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private readonly fastTimer: NodeJS.Timeout;
  private readonly agent: Agent;

  constructor(
    private readonly settings: ProbeSettings,
    private readonly report: (id: string, ok: boolean, reason?: string) => void,
    private readonly logger: Logger,
  ) {
    this.agent = new Agent({
      connect: { timeout: settings.timeoutMs },
      keepAliveTimeout: settings.intervalMs * 2,
    });
    this.timer = setInterval(() => {
      for (const spec of this.specs.values()) void this.probe(spec);
    }, settings.intervalMs);
    this.timer.unref();
    this.fastTimer = setInterval(() => {
      for (const id of this.newcomers) {
        const spec = this.specs.get(id);
        if (spec) void this.probe(spec);
      }
    }, FAST_RETRY_MS);
    this.fastTimer.unref();
  }

  /**
   * The new set, and the ids whose address or health path changed: those are probed at
   * once at their new address, fast until they pass (like a newcomer), so a backend
   * that moved to a dead address leaves the rotation within HEALTH_FALL fast checks.
   */
  update(set: BackendSet, changed: readonly string[] = []): void {
    const next = new Map<string, BackendSpec>();
    for (const spec of set) {
      next.set(spec.id, spec);
      if (!this.specs.has(spec.id) || changed.includes(spec.id)) {
        this.newcomers.add(spec.id);
        this.specs.set(spec.id, spec);
        void this.probe(spec);
      }
    }
    for (const id of this.newcomers) if (!next.has(id)) this.newcomers.delete(id);
    this.specs = next;
  }

  private async probe(spec: BackendSpec): Promise<void> {
    // one probe at a time per backend and address: a probe of the old address must not hold up the new one
    const key = `${spec.id} ${spec.url}${spec.healthPath}`;
    if (this.inProgress.has(key)) return;
    this.inProgress.add(key);
    let ok = false;
    let reason: string | undefined;
    try {
      const res = await request(`${spec.url}${spec.healthPath}`, {
        dispatcher: this.agent,
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
        headers: { 'user-agent': 'headroom-health-check' },
      });
      await res.body.dump();
      ok = res.statusCode >= 200 && res.statusCode < 400;
      if (!ok) reason = `HTTP ${res.statusCode}`;
    } catch (err) {
      reason = (err as { code?: string }).code ?? (err as Error).message;
    } finally {
      this.inProgress.delete(key);
    }
    // gone, or moved meanwhile: this result is about an address the backend no longer has
    const currentSpec = this.specs.get(spec.id);
    if (
      currentSpec === undefined ||
      currentSpec.url !== spec.url ||
      currentSpec.healthPath !== spec.healthPath
    )
      return;
    if (ok) this.newcomers.delete(spec.id);
    this.logger.debug({ backend: spec.id, ok, reason }, 'health check');
    this.report(spec.id, ok, reason);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.fastTimer);
    await this.agent.close().catch(() => undefined);
  }
}
