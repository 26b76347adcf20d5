// The balancing core: one stats store shared by every mode (switching modes never
// resets what was learned), health and ejection state, weights and slow start, sticky
// sessions, and the four selection modes. Pure: the caller passes `now`, randomness is
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
        chosen = this.pickTwoChoices(now, exclude, false);
        break;
      case 'latency':
        chosen = this.pickTwoChoices(now, exclude, true);
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
   * Power of two choices: two distinct eligible candidates drawn with probability in
   * proportion to effective weight, the lower cost wins. Costs include in-flight
   * requests, which change at every dispatch, so the choice reacts between metric
   * refreshes and never herds onto the backend that looked best at the last refresh.
   *  resource-aware: (inFlight + 1) / (weight × headroom score)
   *  latency:        peak-EWMA latency × (inFlight + 1) / weight
   */
  private pickTwoChoices(now: number, exclude: number, byLatency: boolean): Slot | undefined {
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
    const reference = byLatency ? this.fastestLatency() : this.neutralScore(now);
    const ca = byLatency ? this.latencyCost(a, now, reference) : this.resourceCost(a, now, reference);
    const cb = byLatency ? this.latencyCost(b, now, reference) : this.resourceCost(b, now, reference);
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

  /**
   * Score for backends without fresh metrics: the median of the fresh ones (1 when none).
   * Neutral on purpose: a backend whose stats stream lags is neither starved (as a 0
   * would do) nor flooded (as a perfect 1 would do among busy peers).
   */
  private neutralScore(now: number): number {
    let n = 0;
    const scores = this.scratch;
    for (const s of this.slots) {
      if (!this.eligible(s)) continue;
      const sc = this.freshScore(s, now);
      if (sc !== null) scores[n++] = sc;
    }
    if (n === 0) return 1;
    // tiny insertion sort: pools are small, and this avoids allocating
    for (let i = 1; i < n; i++) {
      const v = scores[i]!;
      let j = i - 1;
      while (j >= 0 && scores[j]! > v) {
        scores[j + 1] = scores[j]!;
        j--;
      }
      scores[j + 1] = v;
    }
    return n % 2 === 1 ? scores[(n - 1) / 2]! : (scores[n / 2 - 1]! + scores[n / 2]!) / 2;
  }
  private scratch: number[] = new Array(64).fill(0);

  private resourceCost(s: Slot, now: number, neutral: number): number {
    const score = this.freshScore(s, now) ?? neutral;
    return (s.inFlight + 1) / (this.effectiveWeight(s, now) * score);
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
    s.cpu = cpu;
    s.mem = mem;
    s.metricsAt = at;
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
        effectiveWeight: this.eligible(s) ? this.effectiveWeight(s, now) : 0,
      });
    }
    return out;
  }
}

export function createBalancer(opts: BalancerOptions): Balancer {
  return new Balancer(opts);
}
