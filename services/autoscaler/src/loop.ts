// The control loop: one tick observes (census + metrics), decides (pure policy), acts
// (runtime) and records (decision log, metrics). Ticks never overlap, so scale actions are
// serialized; the loop measures its own lag. The runtime is observed once per tick (replicas
// and, with several engines, every engine's capacity) and that observation is what the scale
// action places with. One unreachable engine of several is left out (logged when it goes and
// when it comes back) while the others keep scaling; when no engine answers, scaling pauses.
import type { AutoscalerStatus, Decision, Logger, ServiceView } from '@headroom/shared';
import {
  EngineUnavailableError,
  type ReplicaRuntime,
  type RuntimeObservation,
} from './act/replica-runtime.js';
import type { SleepAnnouncer } from './act/sleep-announcer.js';
import type { AutoscalerMetrics } from './admin/metrics.js';
import type { DecisionLog } from './decision-log.js';
import type { MetricSource } from './observe/metric-source.js';
import { toReading } from './observe/readings.js';
import { type BalancerView, type Census, takeCensus } from './observe/replica-census.js';
import { type DecideResult, decide } from './policy/decide.js';
import type {
  MetricRecommendation,
  PolicySettings,
  Recommendation,
  ScaleMetric,
} from './policy/policy-types.js';
import { type ReasonCode, reasonMessage } from './policy/reasons.js';
import { idleWindow, judgeSleep, type SleepDecision } from './policy/sleep.js';
import { seedHistory } from './policy/stabilization.js';

export interface LoopOptions {
  service: string;
  runtimeName: string;
  runtime: ReplicaRuntime;
  source: MetricSource | undefined;
  targets: { metric: ScaleMetric; target: number }[];
  settings: PolicySettings;
  intervalMs: number;
  maxAgeMs: number;
  dryRun: boolean;
  balancerView?: (() => Promise<BalancerSnapshot | undefined>) | undefined;
  /** MIN_REPLICAS=0: sleep after the idle window, wake on POST /api/wake (issue #19). */
  scaleToZero?:
    | {
        /** SCALE_TO_ZERO_AFTER_MS; the balancer's `service.idleAfterMs` (lb.idle.after) overrides it. */
        idleAfterMs: number;
        wakeRequestsPerReplica: number;
        /** Tells the balancer before the last replicas drain (so it holds requests, and wakes us). */
        announcer: SleepAnnouncer;
      }
    | undefined;
  log: DecisionLog;
  metrics: AutoscalerMetrics;
  logger: Logger;
  now?: () => number;
}

/** One read of the balancer's GET /api/backends: readiness by backend id, and the service. */
export interface BalancerSnapshot {
  states: BalancerView;
  /** Absent from a balancer without scale to zero. */
  service?: ServiceView | undefined;
  /** Sum of the backends' in-flight requests. */
  inFlight: number;
}

export class ScalingLoop {
  private paused = false;
  private holdReason: ReasonCode | null = null;
  private history: Recommendation[] = [];
  private census: Census | undefined;
  private lastDesired: number | undefined;
  private lastShortfall: string | undefined;
  private lastMetricFailure: string | undefined;
  private lastUnreachable = '';
  private lastMetrics: MetricRecommendation[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private nextAt = 0;
  private lastTickAt: number | null = null;
  private lastTickMs: number | null = null;
  private lagMs: number | null = null;
  private readonly now: () => number;
  /** Scale to zero: when the loop started or last woke the service (counts as a request). */
  private activeSince: number;
  /** Held count of a POST /api/wake not yet acted on; null: none asked. */
  private wakeHeld: number | null = null;
  private pendingTick: Promise<void> | undefined;
  private sleeping = false;

  constructor(private readonly o: LoopOptions) {
    this.now = o.now ?? Date.now;
    this.activeSince = this.now();
    for (const t of o.targets) o.metrics.metricTarget.set({ metric: t.metric }, t.target);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.nextAt = this.now() + delay;
    this.timer = setTimeout(() => void this.runTick(), delay);
  }

  private runTick(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.tick()
      .then(() => undefined)
      .catch((err) => this.o.logger.error({ err }, 'tick failed'))
      .finally(() => {
        this.running = undefined;
        // Fixed rate, but a slow tick (a long drain) never makes ticks pile up.
        this.schedule(Math.max(0, this.nextAt + this.o.intervalMs - this.now()));
      });
    this.running = p;
    return p;
  }

  /**
   * POST /api/wake: remember the held count and tick at once. Ticks never overlap: a tick in
   * progress finishes first and the wake tick follows it immediately (several wakes meanwhile
   * share that one tick, with the largest held count).
   */
  async wake(held: number): Promise<AutoscalerStatus> {
    this.wakeHeld = Math.max(this.wakeHeld ?? 0, held);
    if (!this.stopped) {
      if (!this.pendingTick) {
        const before = this.running ?? Promise.resolve();
        this.pendingTick = before.then(() => {
          this.pendingTick = undefined;
          if (this.stopped) return;
          return this.runTick();
        });
      }
      await this.pendingTick;
    }
    return this.status();
  }

  /** Stops scheduling and waits for a tick in progress (its scale action finishes). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pendingTick;
    await this.running;
  }

  pause(): void {
    this.paused = true;
    this.o.metrics.paused.set(1);
    this.o.logger.info('scaling paused by operator');
  }

  resume(): void {
    this.paused = false;
    this.o.metrics.paused.set(this.holdReason ? 1 : 0);
    this.o.logger.info('scaling resumed by operator');
  }

  /** One observe → decide → act → record round. Public for tests and for a first tick at start. */
  async tick(): Promise<Decision> {
    const started = this.now();
    this.lagMs = Math.max(0, started - this.nextAt);
    const end = this.o.metrics.tickDuration.startTimer();
    try {
      return await this.tickInner(started);
    } finally {
      end();
      this.lastTickAt = started;
      this.lastTickMs = this.now() - started;
    }
  }

  private async tickInner(now: number): Promise<Decision> {
    let records: Awaited<ReturnType<ReplicaRuntime['list']>>;
    let observation: RuntimeObservation | undefined;
    try {
      if (this.o.runtime.observe) {
        observation = await this.o.runtime.observe();
        records = observation.records;
      } else records = await this.o.runtime.list();
    } catch (err) {
      if (!(err instanceof EngineUnavailableError)) throw err;
      this.o.metrics.errors.inc({ kind: 'engine' });
      if (this.holdReason !== 'EngineUnavailable')
        this.o.logger.warn({ err: err.message }, 'engine unavailable: scaling paused');
      this.holdReason = 'EngineUnavailable';
      this.o.metrics.paused.set(1);
      const c = this.census?.current ?? 0;
      return this.record(
        this.plainDecision(now, c, this.census?.ready ?? 0, c, 'EngineUnavailable', err.message),
      );
    }
    if (this.holdReason === 'EngineUnavailable') this.o.logger.info('engine back: scaling resumed');
    this.reportUnreachable(observation?.unreachable ?? []);

    const reaped = this.o.dryRun ? [] : await this.o.runtime.reap(records);
    if (reaped.length > 0) {
      this.o.logger.info({ reaped }, 'removed dead owned replicas');
      records = records.filter((r) => !reaped.includes(r.name));
    }
    const snapshot = this.o.balancerView ? await this.o.balancerView().catch(() => undefined) : undefined;
    const census = await takeCensus(records, snapshot?.states);
    this.census = census;
    if (this.history.length === 0) this.history = seedHistory(census.current, now);

    const failures: string[] = [];
    const readings = await Promise.all(
      this.o.targets.map(async (t) => {
        if (!this.o.source) {
          failures.push(`${t.metric}: no metric source (set PROMETHEUS_URL or LB_ADMIN_URL)`);
          return { metric: t.metric, target: t.target, values: [], missing: 'unreachable' as const };
        }
        const result = await this.o.source.read(t.metric, now);
        if (!result.ok) {
          this.o.metrics.errors.inc({ kind: 'metrics' });
          failures.push(`${t.metric}: ${result.detail}`);
        }
        return toReading(t.metric, t.target, result, census.replicas, this.o.maxAgeMs);
      }),
    );
    this.reportMetricFailures(failures);
    const sleep = this.judgeSleep(now, census, snapshot);
    const policy = decide({
      now,
      current: census.current,
      ready: census.ready,
      readings,
      // Awake, the ordinary policy never takes the service to 0: only a sleep decision does.
      settings: this.o.scaleToZero
        ? { ...this.o.settings, min: Math.max(1, this.o.settings.min) }
        : this.o.settings,
      history: this.history,
    });
    const result = this.withSleep(policy, sleep, census.current);
    this.history = result.history;
    this.lastMetrics = result.metrics;
    for (const m of result.metrics)
      this.o.metrics.metricValue.set({ metric: m.metric }, m.value ?? Number.NaN);
    this.o.metrics.current.set(census.current);
    this.o.metrics.ready.set(census.ready);

    if (this.paused) {
      this.holdReason = 'Paused';
      this.o.metrics.paused.set(1);
      return this.record(
        this.plainDecision(
          now,
          census.current,
          census.ready,
          census.current,
          'Paused',
          `policy: ${result.message}`,
          result,
        ),
      );
    }
    this.holdReason =
      result.reason === 'HoldMissingData' || result.reason === 'HoldPartialData' ? result.reason : null;
    this.o.metrics.paused.set(this.holdReason ? 1 : 0);
    this.lastDesired = result.desired;
    this.o.metrics.desired.set(result.desired);

    let decision = this.toDecision(now, census, result);
    if (sleep) this.reportSleep(sleep, decision);
    if (sleep?.kind === 'asleep' && !this.o.dryRun && snapshot?.service?.state === 'awake') {
      // Asleep, but the balancer does not know: it restarted, or its discovery cannot see a
      // stopped replica (static backends, the local runtime). Told again, it holds and wakes us.
      await this.o.scaleToZero?.announcer.sleeping(`still asleep: ${decision.message}`);
    }
    // A wake's held count is acted on by this tick; later ticks see the balancer's own count.
    this.wakeHeld = null;
    if (sleep?.kind === 'wake') this.activeSince = now;
    if (sleep?.kind === 'sleep' && !this.o.dryRun) {
      // The balancer holds requests from now on (and wakes us), then the replicas drain.
      const held = await this.o.scaleToZero?.announcer.sleeping(decision.message);
      if (!held) {
        this.sleeping = false;
        this.o.metrics.sleeping.set(0);
        this.lastDesired = census.current;
        this.o.metrics.desired.set(census.current);
        return this.record({
          ...decision,
          desired: census.current,
          action: 'none',
          reason: 'ScaleFailed',
          message: `${reasonMessage('ScaleFailed')}: the balancer did not accept the sleep (policy: ${decision.message})`,
        });
      }
    }
    if (result.action !== 'none' && !this.o.dryRun) {
      try {
        const outcome = await this.o.runtime.scaleTo(
          result.desired,
          records,
          observation ? { ...observation, records } : undefined,
          sleep?.kind === 'sleep' ? { sleep: true } : undefined,
        );
        if (outcome.added.length > 0)
          this.o.metrics.scaleEvents.inc({ direction: 'up' }, outcome.added.length);
        if (outcome.removed.length > 0)
          this.o.metrics.scaleEvents.inc({ direction: 'down' }, outcome.removed.length);
        if (!outcome.shortfall) this.lastShortfall = undefined;
        if (outcome.added.length + outcome.removed.length > 0) {
          this.o.logger.info(
            { added: outcome.added, removed: outcome.removed, reason: result.reason },
            decision.message,
          );
        }
        if (outcome.shortfall) {
          this.o.metrics.errors.inc({ kind: 'scale' });
          // The same failure every tick is logged once, until it changes or clears.
          if (outcome.shortfall.detail !== this.lastShortfall) {
            this.o.logger.warn({ detail: outcome.shortfall.detail }, reasonMessage(outcome.shortfall.reason));
          }
          this.lastShortfall = outcome.shortfall.detail;
          decision = {
            ...decision,
            reason: outcome.shortfall.reason,
            message: `${reasonMessage(outcome.shortfall.reason)}: ${outcome.shortfall.detail} (policy: ${decision.message})`,
          };
        }
      } catch (err) {
        this.o.metrics.errors.inc({ kind: err instanceof EngineUnavailableError ? 'engine' : 'scale' });
        this.o.logger.error({ err: (err as Error).message }, 'scale action failed');
        decision = {
          ...decision,
          reason: 'ScaleFailed',
          message: `${reasonMessage('ScaleFailed')}: ${(err as Error).message}`,
        };
      }
    }
    if (sleep?.kind === 'sleep' && !this.o.dryRun && decision.reason !== 'IdleScaleToZero') {
      // The sleep failed part-way and replicas remain: the balancer routes to them again.
      this.sleeping = false;
      this.o.metrics.sleeping.set(0);
      await this.o.scaleToZero?.announcer.awake(`sleep aborted: ${decision.message}`);
    }
    return this.record(decision);
  }

  /** Scale to zero's judgement for this tick; undefined when MIN_REPLICAS > 0. */
  private judgeSleep(
    now: number,
    census: Census,
    snapshot: BalancerSnapshot | undefined,
  ): SleepDecision | undefined {
    const z = this.o.scaleToZero;
    if (!z) return undefined;
    const service = snapshot?.service;
    return judgeSleep({
      now,
      current: census.current,
      idleAfterMs: idleWindow(
        service?.idleAfterMs,
        census.replicas.map((r) => r.idleAfter),
        z.idleAfterMs,
      ),
      service: service ? { lastRequestAt: service.lastRequestAt, held: service.held } : null,
      inFlight: snapshot?.inFlight ?? 0,
      activeSince: this.activeSince,
      wakeHeld: this.wakeHeld,
      wakeRequestsPerReplica: z.wakeRequestsPerReplica,
      max: this.o.settings.max,
    });
  }

  /** The ordinary policy's result, overridden by a sleep, a wake, or held requests. */
  private withSleep(policy: DecideResult, sleep: SleepDecision | undefined, current: number): DecideResult {
    if (!sleep) return policy;
    if (sleep.kind === 'awake') {
      if (!sleep.heldFloor || policy.desired >= sleep.floor) return policy;
      const desired = sleep.floor;
      return {
        ...policy,
        desired,
        action: desired > current ? 'scale-up' : desired < current ? 'scale-down' : 'none',
        reason: 'WakeOnRequest',
        message: `${reasonMessage('WakeOnRequest')} (held requests ask for ${desired}; ${current} → ${desired}; policy: ${policy.message})`,
      };
    }
    const desired = sleep.desired;
    return {
      ...policy,
      desired,
      action: desired > current ? 'scale-up' : desired < current ? 'scale-down' : 'none',
      reason: sleep.reason,
      message: sleep.message,
    };
  }

  /** The sleeping gauge and status follow the judgement. */
  private reportSleep(sleep: SleepDecision, decision: Decision): void {
    if (sleep.kind === 'awake') {
      if (this.sleeping) this.o.metrics.sleeping.set(0);
      this.sleeping = false;
      return;
    }
    const sleepingNow = sleep.kind !== 'wake';
    this.o.metrics.sleeping.set(sleepingNow ? 1 : 0);
    // The sleep and the wake themselves are logged with the replicas they remove or add (below);
    // found asleep (e.g. after a restart) is said once here.
    if (sleep.kind === 'asleep' && !this.sleeping)
      this.o.logger.info({ reason: sleep.reason }, decision.message);
    this.sleeping = sleepingNow;
  }

  /** Engines of several that did not answer: counted every tick, logged when the set changes. */
  private reportUnreachable(unreachable: RuntimeObservation['unreachable']): void {
    if (unreachable.length > 0) this.o.metrics.errors.inc({ kind: 'engine' }, unreachable.length);
    const key = unreachable
      .map((u) => u.id)
      .sort()
      .join(',');
    if (key === this.lastUnreachable) return;
    const before = new Set(this.lastUnreachable ? this.lastUnreachable.split(',') : []);
    this.lastUnreachable = key;
    if (unreachable.length > 0) {
      this.o.logger.warn(
        { engines: unreachable },
        'engine unreachable: its replicas are not counted and placement skips it; the other engines keep scaling',
      );
    }
    const back = [...before].filter((id) => !unreachable.some((u) => u.id === id));
    if (back.length > 0) this.o.logger.info({ engines: back }, 'engine reachable again: back in placement');
  }

  /** Logs a metrics outage once when it starts or changes, and once when it ends. */
  private reportMetricFailures(failures: string[]): void {
    const summary = failures.length > 0 ? failures.join('; ') : undefined;
    if (summary === this.lastMetricFailure) return;
    if (summary !== undefined)
      this.o.logger.warn({ detail: summary }, 'metrics unavailable: holding the current count');
    else this.o.logger.info('metrics available again');
    this.lastMetricFailure = summary;
  }

  private toDecision(now: number, census: Census, r: DecideResult): Decision {
    return {
      at: new Date(now).toISOString(),
      current: census.current,
      ready: census.ready,
      desired: r.desired,
      action: r.action,
      reason: r.reason,
      message: r.message,
      metrics: r.metrics.map(toObservation),
      dryRun: this.o.dryRun,
    };
  }

  private plainDecision(
    now: number,
    current: number,
    ready: number,
    desired: number,
    reason: ReasonCode,
    detail: string,
    r?: DecideResult,
  ): Decision {
    return {
      at: new Date(now).toISOString(),
      current,
      ready,
      desired,
      action: 'none',
      reason,
      message: `${reasonMessage(reason)} (${detail})`,
      metrics: (r?.metrics ?? []).map(toObservation),
      dryRun: this.o.dryRun,
    };
  }

  private record(d: Decision): Decision {
    if (this.o.log.record(d) && d.action === 'none' && d.reason !== 'WithinTolerance') {
      this.o.logger.debug({ reason: d.reason }, d.message);
    }
    return d;
  }

  status(): AutoscalerStatus {
    const s = this.o.settings;
    const current = this.census?.current ?? 0;
    return {
      service: this.o.service,
      runtime: this.o.runtimeName,
      current,
      desired: this.lastDesired ?? current,
      ready: this.census?.ready ?? 0,
      min: s.min,
      max: s.max,
      paused: this.paused,
      holdReason: this.paused ? 'Paused' : this.holdReason,
      lastMetrics: this.lastMetrics.map(toObservation),
      lastDecision: this.o.log.latest(),
      loop: {
        intervalMs: this.o.intervalMs,
        lastTickAt: this.lastTickAt === null ? null : new Date(this.lastTickAt).toISOString(),
        lastTickMs: this.lastTickMs,
        lagMs: this.lagMs,
      },
      dryRun: this.o.dryRun,
      ...(this.o.scaleToZero ? { sleeping: this.sleeping } : {}),
    };
  }
}

function toObservation(m: MetricRecommendation) {
  const o = {
    metric: m.metric,
    value: m.value,
    target: m.target,
    recommendation: m.recommendation,
    samples: m.samples,
  };
  return m.missing ? { ...o, missing: m.missing } : o;
}
