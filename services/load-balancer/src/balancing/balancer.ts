// The balancing core: one stats store shared by every mode (switching modes never
// resets what was learned), health and ejection state, weights and slow start, sticky
// sessions, the learned capacity weights, and the four selection modes. Pure: the caller passes `now`, randomness is
// injected, nothing here does I/O. The hot path (pick/begin/end) loops over a small
// array of slots and allocates nothing except a Pick when a cookie must be written.
import type { BackendState, BalancerMode, StickyPolicy } from '@headroom/shared';
import type { BackendSet, BackendSpec } from '../discovery/backend-set.js';
import type {
  Affinity,
  BackendRuntime,
  BalancerCore,
  BalancerOptions,
  Outcome,
  Pick,
} from './balancer-core.js';
import {
  CAPACITY_BLACKOUT_MS,
  CAPACITY_EXPIRY_MS,
  capacityFactor,
  capacitySample,
  smoothCapacity,
} from './capacity-estimate.js';
import { headroomScore } from './headroom-score.js';
import { readPeakEwma, updatePeakEwma } from './peak-ewma.js';
import { affinityToken, rendezvousScore } from './rendezvous-hash.js';
import { slowStartFactor } from './slow-start.js';

/** A new backend's latency estimate: the pool mean plus this, fading over τ (issue: never flood a cold one, never starve it). */
export const NEW_BACKEND_PENALTY_MS = 20;
/** How much faster an estimate without new samples fades toward the fastest backend's. */
export const IDLE_DECAY_SPEEDUP = 4;
/** Relative cost difference below which two candidates count as equal. */
export const TIE_BAND = 0.05;
/** Latency charged for a failed exchange when it was faster than this (a fast error is not a fast answer). */
export const FAILURE_LATENCY_MS = 1000;
/**
 * Resource-aware memory guard: a backend using at least this fraction of its memory limit
 * gets no new requests while another has room (the next allocation may get it OOM-killed).
 * CPU has no such guard: a first version skipped a backend pinned well above its peers, and
 * the noisy-neighbour benchmark showed it starving a backend whose remaining capacity the
 * others needed (4 % of the traffic, p99 122 ms against least-connections' 110 ms).
 */
export const HOT_MEMORY = 0.9;

interface Slot {
  /** Stable handle for begin/end: survives set changes (array positions do not). */
  serial: number;
  index: number;
  id: string;
  spec: BackendSpec;
  /** Weight from the spec or the CPU-limit prior; `override` from the admin API wins. */
  baseWeight: number;
  override: number | undefined;
  healthy: boolean;
  everHealthy: boolean;
  reason: string | null;
  passes: number;
  fails: number;
  ejectedUntil: number;
  consecutiveFailures: number;
  draining: boolean;
  /** Start of the current slow-start ramp. */
  since: number;
  inFlight: number;
  requests: number;
  errors: number;
  cpu: number | null;
  mem: number | null;
  metricsAt: number | null;
  ewma: number | null;
  ewmaAt: number;
  /** Start of the current unbroken run of fresh metrics (capacity blackout counts from here). */
  metricsSince: number;
  /** `requests` when the last metrics sample arrived: completions per sample interval. */
  requestsAtMetrics: number;
  /** Smoothed capacity estimate (completions/s per unit of utilization), null until learned. */
  capacity: number | null;
  capacityAt: number;
  /** Learned correction of the prior weight (capacity per unit of weight vs the pool's), null until learned. */
  capacityFactor: number | null;
  joinedAt: number;
  /** Smooth weighted round-robin accumulator. */
  current: number;
  token: string;
  plainPick: Pick;
}

export class Balancer implements BalancerCore {
  private slots: Slot[] = [];
  /** Every slot with a live handle: current ones, and removed ones with requests still in flight. */
  private bySerial = new Map<number, Slot>();
  private nextSerial = 0;
  private byId = new Map<string, Slot>();
  private byToken = new Map<string, Slot>();
  private currentMode: BalancerMode;
  private stickyPolicy: StickyPolicy = { kind: 'none' };

  constructor(private readonly opts: BalancerOptions) {
    this.currentMode = opts.mode;
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
    this.reindex();
    return { added, removed, changed };
  }

  private newSlot(spec: BackendSpec, now: number): Slot {
    const token = affinityToken(spec.id);
    const serial = this.nextSerial++;
    const slot: Slot = {
      serial,
      index: 0,
      id: spec.id,
      spec,
      baseWeight: 1,
      override: undefined,
      healthy: false,
      everHealthy: false,
      reason: 'waiting for the first health check',
      passes: 0,
      fails: 0,
      ejectedUntil: Number.NEGATIVE_INFINITY,
      consecutiveFailures: 0,
      draining: false,
      since: now,
      inFlight: 0,
      requests: 0,
      errors: 0,
      cpu: null,
      mem: null,
      metricsAt: null,
      ewma: null,
      ewmaAt: now,
      metricsSince: now,
      requestsAtMetrics: 0,
      capacity: null,
      capacityAt: now,
      capacityFactor: null,
      joinedAt: now,
      current: 0,
      token,
      plainPick: { slot: serial, id: spec.id, url: spec.url, setCookie: undefined },
    };
    this.bySerial.set(serial, slot);
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
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      s.index = i;
      s.plainPick = { slot: s.serial, id: s.id, url: s.spec.url, setCookie: undefined };
      s.baseWeight =
        s.spec.weight !== undefined && s.spec.weight > 0
          ? s.spec.weight
          : s.spec.cpuLimit !== undefined && s.spec.cpuLimit > 0
            ? s.spec.cpuLimit / meanLimit
            : 1;
      this.byId.set(s.id, s);
      this.byToken.set(s.token, s);
      if (sticky.kind === 'none' && s.spec.sticky.kind !== 'none') sticky = s.spec.sticky;
    }
    this.stickyPolicy = sticky;
  }

  // ---- eligibility and weights -------------------------------------------------------

  private eligible(s: Slot): boolean {
    return s.healthy && !s.draining;
  }

  private weightOf(s: Slot): number {
    return s.override ?? s.baseWeight;
  }

  private effectiveWeight(s: Slot, now: number): number {
    const window = s.spec.slowStartMs ?? this.opts.slowStartMs;
    return this.weightOf(s) * slowStartFactor(now, s.since, window);
  }

  /**
   * Resource-aware weight: the configured or CPU-limit prior corrected by the learned
   * capacity factor (an admin override is the operator's word and is used as it is).
   */
  private capacityWeightOf(s: Slot, now: number): number {
    const factor =
      s.override === undefined && s.capacityFactor !== null && now - s.capacityAt <= CAPACITY_EXPIRY_MS
        ? s.capacityFactor
        : 1;
    return this.effectiveWeight(s, now) * factor;
  }

  private modeWeight(s: Slot, now: number): number {
    return this.currentMode === 'resource-aware'
      ? this.capacityWeightOf(s, now)
      : this.effectiveWeight(s, now);
  }

  private freshScore(s: Slot, now: number): number | null {
    if (s.metricsAt === null || now - s.metricsAt > this.opts.metricsStaleMs) return null;
    return headroomScore(s.cpu, s.mem, this.opts.cpuWeight, this.opts.memoryWeight);
  }

  // ---- selection ------------------------------------------------------------------------

  pick(now: number, affinity?: Affinity, exclude = -1): Pick | undefined {
    const sticky = this.stickyPolicy;
    if (sticky.kind === 'cookie' && affinity?.cookie !== undefined) {
      const s = this.byToken.get(affinity.cookie);
      if (s && s.serial !== exclude && this.eligible(s)) return s.plainPick;
    } else if (sticky.kind === 'header' && affinity?.header !== undefined) {
      const s = this.pickRendezvous(affinity.header, exclude);
      if (s) return s.plainPick;
    }
    let chosen: Slot | undefined;
    switch (this.currentMode) {
      case 'round-robin':
        chosen = this.pickRoundRobin(now, exclude);
        break;
      case 'least-connections':
        chosen = this.pickLeastConnections(now, exclude);
        break;
      case 'resource-aware':
        chosen = this.pickResourceAware(now, exclude);
        break;
      case 'latency':
        chosen = this.pickTwoChoices(now, exclude);
        break;
    }
    if (!chosen) return undefined;
    if (sticky.kind === 'cookie' && affinity?.cookie !== chosen.token) {
      return { slot: chosen.serial, id: chosen.id, url: chosen.spec.url, setCookie: chosen.token };
    }
    return chosen.plainPick;
  }

  /** Smooth weighted round-robin (nginx): interleaves, no bursts even for weights 5,1,1. */
  private pickRoundRobin(now: number, exclude: number): Slot | undefined {
    let total = 0;
    let best: Slot | undefined;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s.serial === exclude || !this.eligible(s)) continue;
      const w = this.effectiveWeight(s, now);
      s.current += w;
      total += w;
      if (!best || s.current > best.current) best = s;
    }
    if (best) best.current -= total;
    return best;
  }

  /** (In-flight + 1) / weight (weighted least-connections as Envoy and HAProxy do it), ties broken at random so idle pools do not degenerate to "always the first". */
  private pickLeastConnections(now: number, exclude: number): Slot | undefined {
    let best: Slot | undefined;
    let bestCost = Number.POSITIVE_INFINITY;
    let ties = 0;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s.serial === exclude || !this.eligible(s)) continue;
      const cost = (s.inFlight + 1) / this.effectiveWeight(s, now);
      if (cost < bestCost) {
        best = s;
        bestCost = cost;
        ties = 1;
      } else if (cost === bestCost) {
        ties++;
        if (this.opts.random() * ties < 1) best = s;
      }
    }
    return best;
  }

  /**
   * Resource-aware: weighted least outstanding requests, (in-flight + 1) / capacity weight,
   * over every eligible backend; the weight is the CPU-limit (or configured) prior corrected
   * by the capacity learned from completions per unit of CPU (capacity-estimate.ts). A
   * backend whose memory is nearly full is skipped while another has room. A full scan, not two choices: in-flight counts change at every
   * dispatch, so the minimum cannot herd, and with a handful of backends sampling only
   * loses information. Costs within TIE_BAND of the best are drawn at random, so a learned
   * weight a few percent off does not decide every tie.
   */
  private pickResourceAware(now: number, exclude: number): Slot | undefined {
    let anyCold = false;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s.serial === exclude || !this.eligible(s)) continue;
      const hot = this.isHot(s, now);
      // lexicographic: any cold backend beats every hot one
      if (hot && anyCold) continue;
      const cost = this.resourceCost(s, now);
      if (!hot && !anyCold) {
        anyCold = true;
        bestCost = cost;
      } else if (cost < bestCost) bestCost = cost;
    }
    if (bestCost === Number.POSITIVE_INFINITY) return undefined;
    const limit = bestCost * (1 + TIE_BAND);
    let chosen: Slot | undefined;
    let ties = 0;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s.serial === exclude || !this.eligible(s)) continue;
      if (anyCold && this.isHot(s, now)) continue;
      if (this.resourceCost(s, now) > limit) continue;
      ties++;
      if (ties === 1 || this.opts.random() * ties < 1) chosen = s;
    }
    return chosen;
  }

  /**
   * Expected completion time of one more request, in units of the backend's service time:
   * (in-flight + 1) / capacity. No latency factor: a backend's latency already contains its
   * queue, so latency × (in-flight + 1) counts the queue twice, and with a capacity weight
   * that also says "slow" it counts slowness twice; the noisy-neighbour benchmark showed the
   * result (a still useful backend starved, the others saturated).
   */
  private resourceCost(s: Slot, now: number): number {
    return (s.inFlight + 1) / this.capacityWeightOf(s, now);
  }

  private isHot(s: Slot, now: number): boolean {
    if (s.metricsAt === null || now - s.metricsAt > this.opts.metricsStaleMs) return false;
    return s.mem !== null && s.mem >= HOT_MEMORY;
  }

  /**
   * Latency: power of two choices, two distinct eligible candidates drawn with probability
   * in proportion to effective weight, the lower peak-EWMA latency × (in-flight + 1) /
   * weight wins. In-flight changes at every dispatch, so the choice reacts between
   * latency samples and never herds onto the backend that looked fastest last.
   */
  private pickTwoChoices(now: number, exclude: number): Slot | undefined {
    let totalWeight = 0;
    let count = 0;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s.serial === exclude || !this.eligible(s)) continue;
      totalWeight += this.effectiveWeight(s, now);
      count++;
    }
    if (count === 0) return undefined;
    const a = this.drawWeighted(now, exclude, -1, totalWeight);
    if (count === 1 || !a) return a;
    const b = this.drawWeighted(now, exclude, a.serial, totalWeight - this.effectiveWeight(a, now));
    if (!b) return a;
    const fastest = this.fastestLatency();
    const ca = this.latencyCost(a, now, fastest);
    const cb = this.latencyCost(b, now, fastest);
    // costs within a few percent are a tie: measurement noise must not decide, and a
    // recovered backend whose estimate is converging must get its share back
    if (ca < cb * (1 - TIE_BAND)) return a;
    if (cb < ca * (1 - TIE_BAND)) return b;
    return this.opts.random() < 0.5 ? a : b;
  }

  private drawWeighted(now: number, exclude: number, skip: number, total: number): Slot | undefined {
    let r = this.opts.random() * total;
    let last: Slot | undefined;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s.serial === exclude || s.serial === skip || !this.eligible(s)) continue;
      last = s;
      r -= this.effectiveWeight(s, now);
      if (r < 0) return s;
    }
    return last;
  }

  private meanLatency(): number {
    let sum = 0;
    let n = 0;
    for (const s of this.slots) {
      if (s.ewma === null || !this.eligible(s)) continue;
      sum += s.ewma;
      n++;
    }
    return n > 0 ? sum / n : 1;
  }

  /**
   * Lowest raw estimate among eligible backends. An estimate without new samples decays
   * toward it: a backend that was slow and then got no traffic is retried within a few τ
   * (one slow answer puts it straight back up, peak-EWMA), so nothing is starved forever.
   * Decaying toward the mean would not do: the mean includes the stale slow value itself.
   */
  private fastestLatency(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const s of this.slots) if (s.ewma !== null && this.eligible(s) && s.ewma < min) min = s.ewma;
    return Number.isFinite(min) ? min : 1;
  }

  private latencyEstimate(s: Slot, now: number, fastest: number): number {
    const tau = this.opts.latencyDecayMs;
    // a backend with no sample yet starts from the pool mean plus a penalty fading over τ
    if (s.ewma === null)
      return this.meanLatency() + NEW_BACKEND_PENALTY_MS * Math.exp(-(now - s.joinedAt) / tau);
    // idle estimates fade 4× faster than samples decay: a backend that got no traffic
    // since a burst of slow answers (1000× the fastest) is retried within ~30 s at τ = 10 s
    return readPeakEwma(s.ewma, now - s.ewmaAt, fastest, tau / IDLE_DECAY_SPEEDUP);
  }

  private latencyCost(s: Slot, now: number, fastest: number): number {
    return (this.latencyEstimate(s, now, fastest) * (s.inFlight + 1)) / this.effectiveWeight(s, now);
  }

  private pickRendezvous(key: string, exclude: number): Slot | undefined {
    let best: Slot | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s.serial === exclude || !this.eligible(s)) continue;
      // the configured weight, not the slow-start one: a ramping backend must not pull keys back and forth
      const score = rendezvousScore(key, s.id, this.weightOf(s));
      if (score < bestScore) {
        bestScore = score;
        best = s;
      }
    }
    return best;
  }

  // ---- accounting ------------------------------------------------------------------------

  begin(slot: number, _now: number): void {
    const s = this.bySerial.get(slot);
    if (s) s.inFlight++;
  }

  end(slot: number, now: number, latencyMs: number, outcome: Outcome): void {
    const s = this.bySerial.get(slot);
    if (!s) return;
    if (s.inFlight > 0) s.inFlight--;
    if (s.inFlight === 0 && this.byId.get(s.id) !== s) this.bySerial.delete(s.serial);
    if (outcome === 'aborted') return;
    s.requests++;
    const failed = outcome !== 'success';
    const sample = failed ? Math.max(latencyMs, FAILURE_LATENCY_MS) : latencyMs;
    // update from the estimate as read now (faded while idle), not from the stale raw
    // value: otherwise the first answer after an idle spell would push it back up
    const current = s.ewma === null ? null : this.latencyEstimate(s, now, this.fastestLatency());
    s.ewma = updatePeakEwma(current, sample, now - s.ewmaAt, this.opts.latencyDecayMs);
    s.ewmaAt = now;
    if (!failed) {
      s.consecutiveFailures = 0;
      return;
    }
    s.errors++;
    s.consecutiveFailures++;
    if (s.healthy && s.consecutiveFailures >= this.opts.ejectAfterFailures && this.otherEligible(s)) {
      s.healthy = false;
      s.passes = 0;
      s.ejectedUntil = now + this.opts.ejectCooldownMs;
      s.reason = `ejected after ${s.consecutiveFailures} consecutive failures (${outcome})`;
    }
  }

  /** Passive ejection never takes out the last backend: that would turn errors into 503s for everyone. */
  private otherEligible(s: Slot): boolean {
    for (const o of this.slots) if (o !== s && this.eligible(o)) return true;
    return false;
  }

  reportHealth(id: string, ok: boolean, now: number, reason?: string): void {
    const s = this.byId.get(id);
    if (!s) return;
    if (ok) {
      s.fails = 0;
      s.passes++;
      if (!s.healthy && s.passes >= this.opts.healthRise && now >= s.ejectedUntil) {
        s.healthy = true;
        s.reason = null;
        s.consecutiveFailures = 0;
        // a backend that joins or returns ramps up from a small share
        s.since = now;
        if (!s.everHealthy) s.joinedAt = now;
        s.everHealthy = true;
      }
    } else {
      s.passes = 0;
      s.fails++;
      if (s.healthy && s.fails >= this.opts.healthFall) {
        s.healthy = false;
        s.reason = `health check failed: ${reason ?? 'unknown'}`;
      } else if (!s.healthy && s.ejectedUntil <= now) {
        s.reason = `health check failed: ${reason ?? 'unknown'}`;
      }
    }
  }

  setDraining(id: string, draining: boolean): boolean {
    const s = this.byId.get(id);
    if (!s) return false;
    s.draining = draining;
    return true;
  }

  setMetrics(id: string, cpu: number | null, mem: number | null, at: number): void {
    const s = this.byId.get(id);
    if (!s) return;
    const previous = s.metricsAt;
    if (previous === null || at - previous > this.opts.metricsStaleMs) {
      s.metricsSince = at; // a new run of metrics: blackout starts again
    } else if (cpu !== null && at > previous && at - s.metricsSince >= CAPACITY_BLACKOUT_MS) {
      const sample = capacitySample(s.requests - s.requestsAtMetrics, at - previous, cpu);
      if (sample !== null) {
        s.capacity = smoothCapacity(s.capacity, sample, at - s.capacityAt);
        s.capacityAt = at;
        this.normalizeCapacities(at);
      }
    }
    s.requestsAtMetrics = s.requests;
    s.cpu = cpu;
    s.mem = mem;
    s.metricsAt = at;
  }

  /** Re-expresses every live capacity estimate as a correction of its prior weight, relative to the pool. */
  private normalizeCapacities(now: number): void {
    let sum = 0;
    let n = 0;
    for (const s of this.slots) {
      if (s.capacity === null || now - s.capacityAt > CAPACITY_EXPIRY_MS) continue;
      sum += s.capacity / this.weightOf(s);
      n++;
    }
    for (const s of this.slots) {
      s.capacityFactor =
        s.capacity === null || now - s.capacityAt > CAPACITY_EXPIRY_MS
          ? null
          : capacityFactor(s.capacity / this.weightOf(s), sum / n);
    }
  }

  setWeight(id: string, weight: number): boolean {
    const s = this.byId.get(id);
    if (!s || !(weight > 0)) return false;
    s.override = weight;
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
    const fastest = this.fastestLatency();
    for (const s of this.slots) {
      const state: BackendState = s.draining ? 'draining' : s.healthy ? 'healthy' : 'unhealthy';
      out.push({
        spec: s.spec,
        state,
        stateReason: s.draining ? 'draining: no new requests' : s.healthy ? null : s.reason,
        inFlight: s.inFlight,
        requests: s.requests,
        errors: s.errors,
        cpu: s.cpu,
        mem: s.mem,
        score: this.freshScore(s, now),
        metricsAgeMs: s.metricsAt === null ? null : Math.max(0, now - s.metricsAt),
        latencyMs: s.ewma === null ? null : this.latencyEstimate(s, now, fastest),
        weight: this.weightOf(s),
        effectiveWeight: this.eligible(s) ? this.modeWeight(s, now) : 0,
      });
    }
    return out;
  }
}

export function createBalancer(opts: BalancerOptions): Balancer {
  return new Balancer(opts);
}
