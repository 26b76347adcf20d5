// The control loop: schedules ticks (never overlapping, so scale actions are serialized),
// keeps each service's state between ticks, and reports (decision log, metrics, logs). A tick
// is four steps in four places: observe (observe/observer.ts: one observation, one
// GET /api/backends), decide (policy/decide-tick.ts, pure), plan (placement/plan-tick.ts,
// pure, one capacity ledger across services), act (act/run-plan.ts: runs the plan). The
// loop itself does no arithmetic and makes no scaling choice.
import type { AutoscalerStatus, Decision, Logger, ServiceStatus } from '@headroom/shared';
import type { ReplicaActor } from './act/replica-runtime.js';
import { type Announcer, runPlan } from './act/run-plan.js';
import type { AutoscalerMetrics } from './admin/metrics.js';
import type { DecisionLog } from './decision-log.js';
import { emptyOutcome } from './model/plan.js';
import type { Observation, Observer, ServiceObservation } from './observe/observer.js';
import type { HostState, PlacementSettings } from './placement/host-state.js';
import { planService, rollBack } from './placement/plan-tick.js';
import {
  decideTick,
  initialState,
  type ServiceState,
  settle,
  type TickDecision,
  type TickInput,
  toObservation,
} from './policy/decide-tick.js';
import { reasonMessage } from './policy/reasons.js';
import { type ServiceSettings, type SettingsDefaults, serviceSettings } from './policy/service-settings.js';

export interface LoopOptions {
  /** SERVICE (or the default): the service /api/status answers for at its top level. */
  service: string;
  runtimeName: string;
  observer: Observer;
  actor: ReplicaActor;
  defaults: SettingsDefaults;
  placement: PlacementSettings;
  intervalMs: number;
  dryRun: boolean;
  /** Tells the balancer before the last replicas drain (so it holds requests, and wakes us). */
  announcer?: Announcer | undefined;
  /** Docker with scale to zero: a sleep keeps one stopped container for a fast wake. */
  keepOneOnSleep?: boolean | undefined;
  log: DecisionLog;
  metrics: AutoscalerMetrics;
  logger: Logger;
  now?: () => number;
}

/** What the loop remembers per service besides the policy's state, for reporting. */
interface Reported {
  state: ServiceState;
  settings?: ServiceSettings | undefined;
  lastShortfall?: string | undefined;
  lastMetricFailure?: string | undefined;
  lastInvalid?: string | undefined;
}

export class ScalingLoop {
  private paused = false;
  private readonly services = new Map<string, Reported>();
  private lastUnreachable = '';
  private engineDown = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private nextAt = 0;
  private lastTickAt: number | null = null;
  private lastTickMs: number | null = null;
  private lagMs: number | null = null;
  private readonly now: () => number;
  /** Per service: the held count of a POST /api/wake not yet acted on. */
  private readonly wakeHeld = new Map<string, number>();
  private pendingTick: Promise<void> | undefined;

  /** When the loop was made: a service seen on the first tick counts it as its last request (scale to zero). */
  private readonly createdAt: number;
  private ticked = false;

  constructor(private readonly o: LoopOptions) {
    this.now = o.now ?? Date.now;
    this.createdAt = this.now();
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
  async wake(held: number, service = this.o.service): Promise<AutoscalerStatus> {
    this.wakeHeld.set(service, Math.max(this.wakeHeld.get(service) ?? 0, held));
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
    this.o.metrics.paused.set({ service: this.o.service }, 1);
    this.o.logger.info('scaling paused by operator');
  }

  resume(): void {
    this.paused = false;
    for (const [service, r] of this.services)
      this.o.metrics.paused.set({ service }, r.state.holdReason && r.state.holdReason !== 'Paused' ? 1 : 0);
    this.o.logger.info('scaling resumed by operator');
  }

  /** The services seen so far (CLEANUP_ON_EXIT removes their owned replicas). */
  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  /** One observe → decide → plan → act round. Returns the decision of the configured service (or the first). */
  async tick(): Promise<Decision> {
    const started = this.now();
    this.lagMs = Math.max(0, started - this.nextAt);
    const end = this.o.metrics.tickDuration.startTimer();
    try {
      const decisions = await this.tickInner(started);
      return decisions.find((d) => d.service === this.o.service) ?? decisions[0]!;
    } finally {
      end();
      this.lastTickAt = started;
      this.lastTickMs = this.now() - started;
    }
  }

  /** Every service's decision of one tick. */
  async tickAll(): Promise<Decision[]> {
    return this.tickInner(this.now());
  }

  private async tickInner(now: number): Promise<Decision[]> {
    const observation = await this.o.observer.observe(now);
    // A wake's held count is acted on by this tick; later ticks see the balancer's own count.
    const woken = new Map(this.wakeHeld);
    this.wakeHeld.clear();
    this.reportEngine(observation);

    const inputs = this.inputs(observation);
    const decided = inputs.map(({ input, settings }) => {
      const service = input.kind === 'engine-unavailable' ? input.service : input.facts.service;
      const prev = this.services.get(service)?.state ?? initialState(this.ticked ? now : this.createdAt);
      const flags = {
        now,
        paused: this.paused,
        dryRun: this.o.dryRun,
        wakeHeld: woken.get(service) ?? null,
      };
      return { service, settings, obs: obsOf(observation, service), t: decideTick(input, prev, flags) };
    });

    // Plan and act service by service, on one capacity ledger: each plan books what it
    // places, and act gives back what it did not start, before the next service is planned.
    let ledger: HostState[] = observation.kind === 'observed' ? (observation.hosts ?? []) : [];
    const out: Decision[] = [];
    for (const { service, settings, obs, t } of decided) {
      let final = settle(t, undefined, {});
      if (obs) {
        const planned = planService({
          service,
          runtime: this.o.actor.kind,
          intent: t.intent,
          why: t.decision.message,
          replicas: obs.census.replicas,
          template: obs.template,
          request: obs.request,
          hosts: ledger,
          settings: this.o.placement,
          deaths: t.state.deaths,
          now,
          keepOneOnSleep: this.o.keepOneOnSleep === true && settings?.scaleToZero !== undefined,
          dryRun: this.o.dryRun,
        });
        t.state.deaths = planned.deaths;
        ledger = planned.hosts;
        let outcome = emptyOutcome();
        if (planned.plan.steps.length > 0) {
          try {
            outcome = await runPlan(planned.plan, this.o.actor, this.o.announcer, this.o.logger);
          } catch (err) {
            outcome.failed = { step: 'plan', detail: (err as Error).message };
          }
        }
        ledger = rollBack(ledger, outcome.notCreatedOn, obs.request);
        final = settle(t, planned.plan.shortfall, outcome);
        this.reportAct(service, t, final.decision, outcome, planned.plan.shortfall);
      }
      const reported = this.services.get(service) ?? { state: final.state };
      const wasSleeping = this.services.has(service) ? reported.state.sleeping : false;
      reported.state = final.state;
      reported.settings = settings ?? reported.settings;
      this.services.set(service, reported);
      this.reportService(service, obs, t, final.decision, reported, wasSleeping);
      out.push(this.record(final.decision));
    }
    this.ticked = true;
    return out;
  }

  /** Each service's decide input: its facts and settings, or why it cannot be decided on. */
  private inputs(observation: Observation): { input: TickInput; settings?: ServiceSettings | undefined }[] {
    if (observation.kind === 'engine-unavailable') {
      const known = this.services.size > 0 ? [...this.services.keys()] : [this.o.service];
      return known.map((service) => ({
        input: { kind: 'engine-unavailable', service, error: observation.error },
      }));
    }
    return observation.services.map((s) => {
      const r = serviceSettings(this.o.defaults, s.labelSources);
      if (!r.ok)
        return {
          input: {
            kind: 'config-invalid',
            facts: s,
            container: r.container,
            label: r.label,
            message: r.message,
          },
        };
      return { input: { kind: 'observed', facts: s, settings: r.settings }, settings: r.settings };
    });
  }

  /** The engine as a whole gone or back, and engines of several that did not answer. */
  private reportEngine(observation: Observation): void {
    if (observation.kind === 'engine-unavailable') {
      this.o.metrics.errors.inc({ service: this.o.service, kind: 'engine' });
      if (!this.engineDown)
        this.o.logger.warn({ err: observation.error }, 'engine unavailable: scaling paused');
      this.engineDown = true;
      return;
    }
    if (this.engineDown) this.o.logger.info('engine back: scaling resumed');
    this.engineDown = false;
    const unreachable = observation.unreachable;
    if (unreachable.length > 0)
      this.o.metrics.errors.inc({ service: this.o.service, kind: 'engine' }, unreachable.length);
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

  /** What act did: scale events, the replicas added and removed, a shortfall (logged once until it changes). */
  private reportAct(
    service: string,
    t: TickDecision,
    decision: Decision,
    outcome: ReturnType<typeof emptyOutcome>,
    shortfall: { reason: string; detail: string } | undefined,
  ): void {
    const m = this.o.metrics;
    const r = this.services.get(service);
    if (outcome.reaped.length > 0)
      this.o.logger.info({ service, reaped: outcome.reaped }, 'removed dead owned replicas');
    if (outcome.added.length > 0) m.scaleEvents.inc({ service, direction: 'up' }, outcome.added.length);
    if (outcome.removed.length > 0) m.scaleEvents.inc({ service, direction: 'down' }, outcome.removed.length);
    if (outcome.added.length + outcome.removed.length > 0)
      this.o.logger.info(
        { service, added: outcome.added, removed: outcome.removed, reason: t.decision.reason },
        t.decision.message,
      );
    if (outcome.failed) {
      m.errors.inc({ service, kind: 'scale' });
      this.o.logger.error({ service, err: outcome.failed.detail }, 'scale action failed');
    }
    const detail = shortfall && !outcome.failed ? shortfall.detail : undefined;
    if (detail !== undefined) {
      m.errors.inc({ service, kind: 'scale' });
      // The same failure every tick is logged once, until it changes or clears.
      if (detail !== r?.lastShortfall)
        this.o.logger.warn({ service, detail }, reasonMessage(shortfall!.reason as never));
    }
    if (r) r.lastShortfall = detail;
    if (t.intent.kind === 'sleep' && decision.reason !== 'IdleScaleToZero' && !outcome.sleepRefused)
      this.o.logger.warn({ service, reason: decision.reason }, `sleep aborted: ${decision.message}`);
  }

  /** Gauges and once-per-change log lines of one service's tick. */
  private reportService(
    service: string,
    obs: ServiceObservation | undefined,
    t: TickDecision,
    decision: Decision,
    r: Reported,
    wasSleeping: boolean,
  ): void {
    const m = this.o.metrics;
    const s = r.state;
    m.current.set({ service }, s.current);
    m.ready.set({ service }, s.ready);
    if (s.desired !== undefined) m.desired.set({ service }, s.desired);
    m.paused.set({ service }, s.holdReason ? 1 : 0);
    if (r.settings?.scaleToZero) m.sleeping.set({ service }, s.sleeping ? 1 : 0);
    for (const x of s.lastMetrics) {
      m.metricValue.set({ service, metric: x.metric }, x.value ?? Number.NaN);
      m.metricTarget.set({ service, metric: x.metric }, x.target);
    }
    if (obs) {
      if (obs.metricFailures.length > 0)
        m.errors.inc({ service, kind: 'metrics' }, obs.metricFailures.length);
      const summary = obs.metricFailures.length > 0 ? obs.metricFailures.join('; ') : undefined;
      if (summary !== r.lastMetricFailure) {
        if (summary !== undefined)
          this.o.logger.warn({ service, detail: summary }, 'metrics unavailable: holding the current count');
        else if (r.lastMetricFailure !== undefined)
          this.o.logger.info({ service }, 'metrics available again');
        r.lastMetricFailure = summary;
      }
    }
    const invalid = decision.reason === 'ConfigInvalid' ? decision.message : undefined;
    if (invalid !== r.lastInvalid) {
      // One line per malformed label (until it changes or is fixed); the other services carry on.
      if (invalid !== undefined) this.o.logger.error({ service }, invalid);
      else if (r.lastInvalid !== undefined) this.o.logger.info({ service }, 'autoscale labels valid again');
      r.lastInvalid = invalid;
    }
    // Found asleep (e.g. after a restart) is said once; the sleep and the wake are logged with their replicas.
    if (t.sleep?.kind === 'asleep' && !wasSleeping)
      this.o.logger.info({ service, reason: 'Sleeping' }, decision.message);
  }

  private record(d: Decision): Decision {
    if (this.o.log.record(d) && d.action === 'none' && d.reason !== 'WithinTolerance') {
      this.o.logger.debug({ service: d.service, reason: d.reason }, d.message);
    }
    return d;
  }

  private serviceStatus(service: string): ServiceStatus {
    const r = this.services.get(service);
    const s = r?.state;
    const settings = r?.settings;
    const current = s?.current ?? 0;
    return {
      service,
      current,
      desired: s?.desired ?? current,
      ready: s?.ready ?? 0,
      min: settings ? (settings.scaleToZero ? 0 : settings.policy.min) : this.o.defaults.policy.min,
      max: settings?.policy.max ?? this.o.defaults.policy.max,
      holdReason: this.paused ? 'Paused' : (s?.holdReason ?? null),
      lastMetrics: (s?.lastMetrics ?? []).map(toObservation),
      lastDecision: this.o.log.latest(service),
      ...(settings?.scaleToZero ? { sleeping: s?.sleeping ?? false } : {}),
    };
  }

  status(): AutoscalerStatus {
    const names = this.services.size > 0 ? [...this.services.keys()] : [this.o.service];
    const services = names.map((n) => this.serviceStatus(n));
    const main = services.find((s) => s.service === this.o.service) ?? services[0]!;
    return {
      ...main,
      runtime: this.o.runtimeName,
      paused: this.paused,
      loop: {
        intervalMs: this.o.intervalMs,
        lastTickAt: this.lastTickAt === null ? null : new Date(this.lastTickAt).toISOString(),
        lastTickMs: this.lastTickMs,
        lagMs: this.lagMs,
      },
      dryRun: this.o.dryRun,
      services,
    };
  }
}

function obsOf(observation: Observation, service: string): ServiceObservation | undefined {
  return observation.kind === 'observed'
    ? observation.services.find((s) => s.service === service)
    : undefined;
}
