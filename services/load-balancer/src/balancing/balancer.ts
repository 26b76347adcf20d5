// The balancing core's store and facade: the slots (one stats store for every mode, so
// switching modes never resets what was learned), sticky sessions, and the calls the proxy
// makes. What changes a slot lives beside it: health-state.ts (health, ejection, drain,
// weight transitions), capacity-learner.ts, service-time.ts, latency-estimate.ts; choosing
// is one picker per mode (pickers/). Pure: the caller passes `now`, randomness is injected,
// nothing here does I/O. The hot path (pick/begin/end) loops over a small array of slots and
// allocates nothing except a Pick when a cookie must be written.
import type { BalancerMode, StickyPolicy } from '@headroom/shared';
import type { BackendSet, BackendSpec } from '../model/backend-spec.js';
import type {
  Affinity,
  BackendRuntime,
  BackendTransition,
  BalancerCore,
  BalancerOptions,
  Outcome,
  Pick,
} from './balancer-core.js';
import { normalizeCapacities, observeResources } from './capacity-learner.js';
import { currentLimit, type LimitSettings, observeAnswer } from './concurrency-limit.js';
import { spendQuota } from './cpu-quota.js';
import { headroomScore } from './headroom-score.js';
import {
  applyDrain,
  applyHealthCheck,
  applyOutcome,
  applyWeight,
  beginRamp,
  endRamp,
  type HealthRules,
  stateOf,
} from './health-state.js';
import { FAILURE_LATENCY_MS, fastestLatency, latencyEstimate } from './latency-estimate.js';
import { updatePeakEwma } from './peak-ewma.js';
import { PICKERS, type PickContext } from './pickers/index.js';
import {
  decayedServiceTime,
  pressureOf,
  resourceCost,
  type ServicePool,
  serviceEstimate,
  servicePool,
  signalsOf,
} from './pickers/resource-aware.js';
import { affinityToken, rendezvousScore } from './rendezvous-hash.js';
import { expectedLatencyMs, serviceSample, updateServiceTime } from './service-time.js';
import {
  createSlot,
  DEFAULT_LIMITS,
  effectiveWeight,
  isCandidate,
  isEligible,
  metricsFresh,
  type Slot,
  statedWeight,
  weightOf,
} from './slot.js';

export class Balancer implements BalancerCore {
  private slots: Slot[] = [];
  /** Every slot with a live handle: current ones, and removed ones with requests still in flight. */
  private bySerial = new Map<number, Slot>();
  private nextSerial = 0;
  private byId = new Map<string, Slot>();
  private byToken = new Map<string, Slot>();
  private currentMode: BalancerMode;
  private stickyPolicy: StickyPolicy = { kind: 'none' };
  private readonly rules: HealthRules;
  private readonly limits: LimitSettings;
  /** Refilled per pick: no allocation on the hot path. */
  private readonly ctx: PickContext;

  constructor(private readonly opts: BalancerOptions) {
    this.currentMode = opts.mode;
    this.rules = opts;
    this.limits = opts.limits ?? DEFAULT_LIMITS;
    this.ctx = {
      slots: this.slots,
      now: 0,
      tried: undefined,
      limited: true,
      waiting: 0,
      random: opts.random,
      settings: opts,
    };
  }

  get mode(): BalancerMode {
    return this.currentMode;
  }

  setMode(mode: BalancerMode): void {
    this.currentMode = mode;
  }

  get sticky(): StickyPolicy {
    return this.stickyPolicy;
  }

  private emit(t: BackendTransition | null): void {
    if (t !== null) this.opts.onTransition?.(t);
  }

  setBackends(set: BackendSet, now: number): { added: string[]; removed: string[]; changed: string[] } {
    const added: string[] = [];
    const changed: string[] = [];
    const next: Slot[] = [];
    const seen = new Set<string>();
    for (const spec of set) {
      if (seen.has(spec.id)) continue;
      seen.add(spec.id);
      const old = this.byId.get(spec.id);
      if (old) {
        if (
          old.spec.url !== spec.url ||
          old.spec.weight !== spec.weight ||
          old.spec.healthPath !== spec.healthPath
        ) {
          changed.push(spec.id);
        }
        old.spec = spec;
        old.limitNow = currentLimit(old.limit, spec.maxConn);
        next.push(old);
      } else {
        added.push(spec.id);
        next.push(this.newSlot(spec, now));
      }
    }
    const removed: string[] = [];
    for (const s of this.slots) {
      if (seen.has(s.id)) continue;
      removed.push(s.id);
      // in-flight requests still end() on it; it is forgotten when they have
      if (s.inFlight === 0) this.bySerial.delete(s.serial);
    }
    this.slots = next;
    this.ctx.slots = next;
    this.reindex();
    return { added, removed, changed };
  }

  private newSlot(spec: BackendSpec, now: number): Slot {
    const slot = createSlot(spec, this.nextSerial++, affinityToken(spec.id), now, this.limits);
    this.bySerial.set(slot.serial, slot);
    return slot;
  }

  private reindex(): void {
    this.byId.clear();
    this.byToken.clear();
    // CPU-limit prior: --cpus 2 gets four times the share of --cpus 0.5 before any metric arrives
    let limitSum = 0;
    let limitCount = 0;
    for (const s of this.slots) {
      if (s.spec.cpuLimit !== undefined && s.spec.cpuLimit > 0) {
        limitSum += s.spec.cpuLimit;
        limitCount++;
      }
    }
    const meanLimit = limitCount > 0 ? limitSum / limitCount : 1;
    let sticky: StickyPolicy = { kind: 'none' };
    for (const s of this.slots) {
      s.plainPick = {
        slot: s.serial,
        owner: this,
        id: s.id,
        url: s.spec.url,
        setCookie: undefined,
        timeoutMs: s.spec.timeoutBodyMs,
      };
      s.cpuPrior = s.spec.cpuLimit !== undefined && s.spec.cpuLimit > 0 ? s.spec.cpuLimit / meanLimit : 1;
      s.baseWeight = s.spec.weight !== undefined && s.spec.weight > 0 ? s.spec.weight : s.cpuPrior;
      this.byId.set(s.id, s);
      this.byToken.set(s.token, s);
      if (sticky.kind === 'none' && s.spec.sticky.kind !== 'none') sticky = s.spec.sticky;
    }
    this.stickyPolicy = sticky;
  }

  // ---- selection ------------------------------------------------------------------------

  pick(now: number, affinity?: Affinity, tried?: readonly number[], waiting = 0): Pick | undefined {
    const sticky = this.stickyPolicy;
    // a sticky session keeps its backend whatever its load (HAProxy binds such a request to
    // its server too): limits and the queue apply to the requests the balancer may place
    if (sticky.kind === 'cookie' && affinity?.cookie !== undefined) {
      const s = this.byToken.get(affinity.cookie);
      if (s && isCandidate(s, tried)) return s.plainPick;
    } else if (sticky.kind === 'header' && affinity?.header !== undefined) {
      const s = this.pickRendezvous(affinity.header, tried);
      if (s) return s.plainPick;
    }
    const ctx = this.ctx;
    ctx.now = now;
    ctx.tried = tried;
    ctx.limited = tried === undefined;
    ctx.waiting = waiting;
    const chosen = PICKERS[this.currentMode](ctx);
    ctx.tried = undefined;
    if (!chosen) return undefined;
    if (sticky.kind === 'cookie' && affinity?.cookie !== chosen.token) {
      return {
        slot: chosen.serial,
        owner: this,
        id: chosen.id,
        url: chosen.spec.url,
        setCookie: chosen.token,
        timeoutMs: chosen.spec.timeoutBodyMs,
      };
    }
    return chosen.plainPick;
  }

  private pickRendezvous(key: string, tried: readonly number[] | undefined): Slot | undefined {
    let best: Slot | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const s of this.slots) {
      if (!isCandidate(s, tried)) continue;
      // the configured weight, not the slow-start one: a ramping backend must not pull keys back and forth
      const score = rendezvousScore(key, s.id, weightOf(s));
      if (score < bestScore) {
        bestScore = score;
        best = s;
      }
    }
    return best;
  }

  expectedMs(slot: number, now: number): number {
    const s = this.bySerial.get(slot);
    if (s === undefined || s.svc === null) return 0;
    const pool = servicePool(this.slots, now, this.pool);
    return expectedLatencyMs(serviceEstimate(s, now, pool, this.opts.latencyDecayMs), s.inFlight);
  }

  fastestMs(now: number): number {
    const pool = servicePool(this.slots, now, this.pool);
    let fastest = Number.POSITIVE_INFINITY;
    for (const s of this.slots) {
      if (!isEligible(s)) continue;
      if (s.svc === null) return 0;
      const ms = serviceEstimate(s, now, pool, this.opts.latencyDecayMs);
      if (ms < fastest) fastest = ms;
    }
    return fastest === Number.POSITIVE_INFINITY ? 0 : fastest;
  }

  hasEligible(): boolean {
    for (const s of this.slots) if (isEligible(s)) return true;
    return false;
  }

  // ---- accounting ------------------------------------------------------------------------

  begin(slot: number, now: number): number {
    const s = this.bySerial.get(slot);
    if (!s) return 0;
    spendQuota(s, now);
    s.sentAt = now;
    return s.inFlight++;
  }

  end(slot: number, now: number, latencyMs: number, outcome: Outcome, ahead?: number): void {
    const s = this.bySerial.get(slot);
    if (!s) return;
    if (s.inFlight > 0) s.inFlight--;
    if (s.inFlight === 0 && this.byId.get(s.id) !== s) this.bySerial.delete(s.serial);
    if (outcome === 'aborted') return;
    s.requests++;
    const failed = outcome !== 'success';
    // a 5xx is an answer (the backend's own verdict, often fast); only transport failures and
    // timeouts say it is overloaded
    observeAnswer(
      s.limit,
      latencyMs,
      ahead ?? s.inFlight,
      outcome === 'connect-error' || outcome === 'timeout',
      this.limits,
    );
    s.limitNow = currentLimit(s.limit, s.spec.maxConn);
    const latencySample = failed ? Math.max(latencyMs, FAILURE_LATENCY_MS) : latencyMs;
    const tau = this.opts.latencyDecayMs;
    // update from the estimate as read now (faded while idle), not from the stale raw
    // value: otherwise the first answer after an idle spell would push it back up
    const current =
      s.ewma === null ? null : latencyEstimate(s, now, fastestLatency(this.slots), this.slots, tau);
    s.ewma = updatePeakEwma(current, latencySample, now - s.ewmaAt, tau);
    s.ewmaAt = now;
    // without `ahead` (a caller that did not keep begin()'s answer), what is still in flight
    // now stands in: for a FIFO queue it has the same distribution
    const svcNow =
      s.svc === null ? null : decayedServiceTime(s, s.svc, now, servicePool(this.slots, now, this.pool), tau);
    s.svc = updateServiceTime(
      svcNow,
      serviceSample(latencyMs, ahead ?? s.inFlight, failed),
      now - s.svcAt,
      tau,
    );
    s.svcAt = now;
    this.emit(applyOutcome(s, outcome, now, this.rules, this.otherEligible(s)));
  }

  private readonly pool: ServicePool = { best: 1, mean: 1, sampled: 0 };

  private otherEligible(s: Slot): boolean {
    for (const o of this.slots) if (o !== s && isEligible(o)) return true;
    return false;
  }

  reportHealth(id: string, ok: boolean, now: number, reason?: string, immediate?: boolean): void {
    const s = this.byId.get(id);
    if (!s) return;
    const t = applyHealthCheck(s, ok, now, this.rules, reason, immediate);
    this.emit(t);
    if (t?.to === 'healthy') this.emit(beginRamp(s, now, s.spec.slowStartMs ?? this.opts.slowStartMs));
  }

  tick(now: number): void {
    for (const s of this.slots) if (s.rampUntil !== null) this.emit(endRamp(s, now));
  }

  setDraining(id: string, draining: boolean, now = 0, why?: string): boolean {
    const s = this.byId.get(id);
    if (!s) return false;
    this.emit(applyDrain(s, draining, now, why));
    return true;
  }

  setMetrics(id: string, cpu: number | null, mem: number | null, at: number): void {
    const s = this.byId.get(id);
    if (!s) return;
    if (observeResources(s, cpu, mem, at, this.opts.metricsStaleMs)) normalizeCapacities(this.slots, at);
  }

  setWeight(id: string, weight: number, now = 0): boolean {
    const s = this.byId.get(id);
    if (!s || !(weight > 0)) return false;
    this.emit(applyWeight(s, weight, now));
    return true;
  }

  inFlight(id: string): number {
    return this.byId.get(id)?.inFlight ?? 0;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  runtime(now: number): BackendRuntime[] {
    const out: BackendRuntime[] = [];
    const tau = this.opts.latencyDecayMs;
    const stale = this.opts.metricsStaleMs;
    const fastest = fastestLatency(this.slots);
    const pool = servicePool(this.slots, now, { best: 1, mean: 1, sampled: 0 });
    const ctx: PickContext = { ...this.ctx, now };
    // resource-aware's effective weight: the inverse of its cost per request in flight,
    // scaled so the cheapest eligible backend reads as its stated weight (shares follow the
    // ratios: 0.25 against 1 costs four times as much)
    let scale = 0;
    if (this.currentMode === 'resource-aware') {
      let minCost = Number.POSITIVE_INFINITY;
      for (const s of this.slots) {
        if (!isEligible(s)) continue;
        const c = this.idleCost(ctx, s, pool);
        if (c < minCost) {
          minCost = c;
          scale = c * statedWeight(s);
        }
      }
    }
    for (const s of this.slots) {
      const fresh = metricsFresh(s, now, stale);
      out.push({
        spec: s.spec,
        state: stateOf(s),
        stateReason: s.draining ? 'draining: no new requests' : s.healthy ? null : s.reason,
        inFlight: s.inFlight,
        requests: s.requests,
        errors: s.errors,
        cpu: s.cpu,
        mem: s.mem,
        score: fresh ? headroomScore(s.cpu, s.mem, this.opts.cpuWeight, this.opts.memoryWeight) : null,
        metricsAgeMs: s.metricsAt === null ? null : Math.max(0, now - s.metricsAt),
        latencyMs: s.ewma === null ? null : latencyEstimate(s, now, fastest, this.slots, tau),
        weight: weightOf(s),
        effectiveWeight: !isEligible(s)
          ? 0
          : this.currentMode === 'resource-aware'
            ? scale / this.idleCost(ctx, s, pool)
            : effectiveWeight(s, now, this.opts.slowStartMs),
        serviceMs: s.svc === null ? null : serviceEstimate(s, now, pool, tau),
        pressure: fresh ? pressureOf(s, ctx) : null,
        signals: signalsOf(s, now, stale, pool),
        limit: s.limitNow,
        limitSource: s.spec.maxConn === undefined ? 'adaptive' : 'static',
      });
    }
    return out;
  }

  private idleCost(ctx: PickContext, s: Slot, pool: ServicePool): number {
    return resourceCost(ctx, s, pool) / (s.inFlight + 1);
  }
}

export function createBalancer(opts: BalancerOptions): Balancer {
  return new Balancer(opts);
}
