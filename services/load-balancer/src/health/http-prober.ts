// Active health checks for every backend on one shared timer: a TCP connect by default, or
// GET <url><healthPath> judged by the spec's status ranges; a container's Docker HEALTHCHECK
// status joins in (health-check.ts decides). A backend that just appeared is probed at once
// and then every 100 ms until its first pass, so a started container takes traffic well under
// a second after it shows up.
import { connect } from 'node:net';
import type { Logger } from '@headroom/shared';
import { Agent, request } from 'undici';
import type { BackendSet, BackendSpec } from '../model/backend-spec.js';
import { checkOf, isDefaultCheck } from '../model/health-check.js';
import { healthVerdict, httpResult, type ProbeResult } from './health-check.js';

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
    private readonly report: (id: string, ok: boolean, reason?: string, immediate?: boolean) => void,
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
      const before = this.specs.get(spec.id);
      // a new Docker health status (an events-stream relist) is judged at once, not at the next tick
      if (
        before === undefined ||
        changed.includes(spec.id) ||
        before.dockerHealth !== spec.dockerHealth ||
        before.healthStatus !== spec.healthStatus ||
        before.healthPath !== spec.healthPath
      ) {
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
    const key = `${spec.id} ${spec.url}${spec.healthPath ?? ' tcp'} ${spec.dockerHealth}`;
    if (this.inProgress.has(key)) return;
    this.inProgress.add(key);
    const check = checkOf(spec);
    let result: ProbeResult;
    try {
      // Docker's unhealthy decides alone: no need to reach the backend to know it is out
      result =
        spec.dockerHealth === 'unhealthy'
          ? { ok: false, reason: 'not probed' }
          : check.kind === 'tcp'
            ? await this.tcp(spec.url)
            : await this.http(`${spec.url}${check.path}`, check.status);
    } finally {
      this.inProgress.delete(key);
    }
    // Docker's `starting` keeps a backend out under either default check (TCP, or any HTTP answer
    // on a published port); an HTTP check the user asked for decides on its own
    const verdict = healthVerdict(
      isDefaultCheck(spec.healthPath, spec.healthStatus) ? 'tcp' : check.kind,
      result,
      spec.dockerHealth,
    );
    // gone, or moved meanwhile: this result is about an address the backend no longer has
    const currentSpec = this.specs.get(spec.id);
    if (
      currentSpec === undefined ||
      currentSpec.url !== spec.url ||
      currentSpec.healthPath !== spec.healthPath ||
      currentSpec.healthStatus !== spec.healthStatus ||
      currentSpec.dockerHealth !== spec.dockerHealth
    )
      return;
    if (verdict.ok) this.newcomers.delete(spec.id);
    this.logger.debug(
      { backend: spec.id, check: check.kind, ok: verdict.ok, reason: verdict.reason },
      'health check',
    );
    this.report(spec.id, verdict.ok, verdict.reason, verdict.immediate);
  }

  private async http(url: string, status: string): Promise<ProbeResult> {
    try {
      const res = await request(url, {
        dispatcher: this.agent,
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
        headers: { 'user-agent': 'headroom-health-check' },
      });
      await res.body.dump();
      return httpResult(res.statusCode, status);
    } catch (err) {
      return { ok: false, reason: (err as { code?: string }).code ?? (err as Error).message };
    }
  }

  /** A TCP connect to the backend's address, closed as soon as it is made. */
  private tcp(base: string): Promise<ProbeResult> {
    const u = new URL(base);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      const done = (r: ProbeResult) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(r);
      };
      const timer = setTimeout(
        () => done({ ok: false, reason: `TCP connect timed out after ${this.settings.timeoutMs} ms` }),
        this.settings.timeoutMs,
      );
      socket.once('connect', () => done({ ok: true }));
      socket.once('error', (err: NodeJS.ErrnoException) =>
        done({ ok: false, reason: err.code ?? err.message }),
      );
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.fastTimer);
    await this.agent.close().catch(() => undefined);
  }
}
