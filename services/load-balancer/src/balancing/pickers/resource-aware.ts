// Resource-aware: the lowest expected cost of one more request over every eligible backend,
//
//   cost = ((in-flight + 1) × service time + quota wait) × pressure / (stated weight × slow start)
//
// - in-flight: counted at dispatch, never stale, so the minimum cannot herd between samples.
// - service time (service-time.ts): latency ÷ (requests it queued behind + 1), decaying at
//   read time toward what the backend's speed predicts. This is what breaks the ties at
//   0–1 in-flight that make least-connections send a slow backend its 1/N at low load, and
//   it sees slowness a CPU signal cannot (a backend waiting on I/O).
// - speed (the CPU-limit prior × the capacity learned as completions per unit of CPU):
//   the estimate for a backend with no answers yet, and the target idle estimates decay to.
//   For a backend whose quota is modelled the prior is 1 (servicePrior): a quota stops a
//   backend, it does not slow a request down, and the quota wait already prices the stop.
// - quota wait (cpu-quota.ts): a backend with a CPU limit runs at full speed only while its
//   CFS period's budget lasts; the wait for budget that one more request would have, from the
//   CPU per request the capacity learner measured. Without it, idle equal backends took
//   streaks until their budget was spent and their answers came back a period late.
// - pressure: the headroom score (SCORE_CPU_WEIGHT·(1−cpu) + SCORE_MEMORY_WEIGHT·(1−mem))
//   raises the cost once the score falls below PRESSURE_KNEE, by up to PRESSURE_GAIN. Only
//   near saturation: below the knee the backend's latency already says everything, and a
//   CPU term there double-counts the balancer's own load (the first resource-aware version
//   measured that). Bounded: a backend whose CPU is hot from something else while its
//   answers stay fast keeps traffic (cost at most ×(1 + gain)).
// - a backend at ≥ HOT_MEMORY of its memory limit gets no new request while another has
//   room (Prequal's hot/cold rule, on memory only: the next allocation may get it killed).
// Without fresh metrics, pressure and the memory guard are off: the backend is steered by
// in-flight and latency alone, and /api/backends says so (`signals`).
// Costs within 5 % of the best tie, within 15 % for backends with nothing in flight
// (TIE_BAND_IDLE); a tie goes to the backend sent a request longest ago (at random between
// equals). At paced load a random draw gave one backend several requests in a row while the
// other idled, and with a CPU quota that run spent a period's budget: the heterogeneous
// benchmark's 80 % p99 in simulation went from 56.7 ms to 12.0 with this rule, equal to
// weighted round-robin's (overload-sim.test.ts).
import type { SteeringSignal } from '../balancer-core.js';
import { cpuPerRequestMs, quotaWaitMs } from '../cpu-quota.js';
import { headroomScore } from '../headroom-score.js';
import { IDLE_DECAY_SPEEDUP } from '../latency-estimate.js';
import { readServiceTime } from '../service-time.js';
import {
  hasRoom,
  isCandidate,
  isEligible,
  liveCapacityFactor,
  metricsFresh,
  type Slot,
  slowStartOf,
  statedWeight,
} from '../slot.js';
import type { PickContext } from './picker.js';

/**
 * Costs within this of the best tie (the one idle longest wins). Between backends with nothing in flight
 * the costs differ only by their service-time estimates, which for equal backends differ by
 * about TIE_BAND_IDLE from one answer to the next (timer and scheduling jitter): a narrower
 * band at light load hands all traffic to whichever looked a little faster last, so one CPU
 * toggle or one slow neighbour then hits every request instead of a share. Once requests
 * queue, in-flight counts separate the candidates and the band is narrow again: a wide one
 * there sends requests to longer queues (it cost p99 at 80 % load on the unequal-service bench).
 */
export const TIE_BAND_IDLE = 0.15;
export const TIE_BAND_BUSY = 0.05;

/** Headroom score below which pressure starts. */
export const PRESSURE_KNEE = 0.3;
/** Pressure at a score of 0: the cost is multiplied by at most 1 + this. */
export const PRESSURE_GAIN = 1;
/** Memory use (fraction of the limit) at which a backend is hot: no new requests while another is not. */
export const HOT_MEMORY = 0.9;
/**
 * Service times below this are read as this: under a millisecond, differences are the
 * proxy's and the event loop's noise, not the backend's speed, and two fast backends must tie
 * (and share traffic at light load) rather than the one that looked 0.1 ms faster take it all.
 */
export const SERVICE_FLOOR_MS = 1;

/** Service time per unit of speed across the pool: the best (what idle estimates decay to) and the mean. */
export interface ServicePool {
  best: number;
  mean: number;
  sampled: number;
}

export function servicePool(slots: readonly Slot[], _now: number, into: ServicePool): ServicePool {
  let best = Number.POSITIVE_INFINITY;
  let sum = 0;
  let n = 0;
  for (const s of slots) {
    if (s.svc === null || !isEligible(s)) continue;
    // per unit of CPU limit, not of learned capacity: see decayedServiceTime
    const perSpeed = s.svc * servicePrior(s);
    if (perSpeed < best) best = perSpeed;
    sum += perSpeed;
    n++;
  }
  into.best = n > 0 ? best : 1;
  into.mean = n > 0 ? sum / n : 1;
  into.sampled = n;
  return into;
}

/**
 * Expected service time of one request (ms; in units of 1 before any backend answered). A
 * backend that has not answered yet is priced at the pool's mean for its speed: it ties with
 * the others at light load and learns its own speed from its first answers (slow start, not a
 * surcharge, is what keeps a cold backend from being flooded).
 */
export function serviceEstimate(s: Slot, now: number, pool: ServicePool, tauMs: number): number {
  const speed = servicePrior(s) * liveCapacityFactor(s, now);
  if (s.svc === null) return pool.sampled > 0 ? Math.max(SERVICE_FLOOR_MS, pool.mean / speed) : 1 / speed;
  return Math.max(SERVICE_FLOOR_MS, decayedServiceTime(s, s.svc, now, pool, tauMs));
}

/**
 * A sampled estimate as read now, before the floor: the base each new answer updates. It
 * decays toward the pool's best for its CPU limit, not for its learned capacity: a backend
 * with answers of its own is judged by them. The capacity learner counts completions per
 * CPU-second, so CPU that something else burns reads as a slower backend; decaying toward
 * that put an idle backend whose answers were as fast as the others' at 2–4× their cost,
 * and it got no request to show otherwise (issue #26: 0 of 600). Capacity prices only a
 * backend with no answer yet (serviceEstimate).
 */
export function decayedServiceTime(
  s: Slot,
  svc: number,
  now: number,
  pool: ServicePool,
  tauMs: number,
): number {
  return readServiceTime(svc, now - s.svcAt, pool.best / servicePrior(s), tauMs / IDLE_DECAY_SPEEDUP);
}

/**
 * How fast one request runs on `s`, relative to the pool (what an idle estimate decays to):
 * the CPU-limit prior, except for a backend whose quota is modelled (cpu-quota.ts). A CFS quota
 * does not slow a request down; it stops the backend once a period's budget is spent, and the
 * quota wait prices that. Decaying such a backend toward its limit's share too counted the limit
 * twice: the 0.125-core backend beside two 0.5-core ones stayed at 4× their cost while its
 * unthrottled answers took as long as theirs, and its budget went unused.
 */
export function servicePrior(s: Slot): number {
  return cpuPerRequestMs(s) === null ? s.cpuPrior : 1;
}

/** Cost multiplier from the headroom score; 1 without fresh metrics. */
export function pressureOf(s: Slot, ctx: Pick<PickContext, 'now' | 'settings'>): number {
  const { settings } = ctx;
  if (!metricsFresh(s, ctx.now, settings.metricsStaleMs)) return 1;
  const score = headroomScore(s.cpu, s.mem, settings.cpuWeight, settings.memoryWeight);
  if (score === null || score >= PRESSURE_KNEE) return 1;
  return 1 + (PRESSURE_GAIN * (PRESSURE_KNEE - score)) / PRESSURE_KNEE;
}

export function isHot(s: Slot, now: number, staleMs: number): boolean {
  return metricsFresh(s, now, staleMs) && s.mem !== null && s.mem >= HOT_MEMORY;
}

export function resourceCost(ctx: PickContext, s: Slot, pool: ServicePool): number {
  const { now, settings } = ctx;
  const expected =
    (s.inFlight + 1) * serviceEstimate(s, now, pool, settings.latencyDecayMs) + quotaWaitMs(s, now);
  return (expected * pressureOf(s, ctx)) / (statedWeight(s) * slowStartOf(s, now, settings.slowStartMs));
}

export function signalsOf(s: Slot, now: number, staleMs: number, pool: ServicePool): SteeringSignal[] {
  const signals: SteeringSignal[] = ['in-flight'];
  if (s.svc !== null || pool.sampled > 0) signals.push('latency');
  if (s.spec.cpuLimit !== undefined || s.capacityFactor !== null) signals.push('capacity');
  if (metricsFresh(s, now, staleMs)) signals.push('headroom');
  return signals;
}

// one scratch buffer and pool record for every pick: the hot path allocates nothing
let costs = new Float64Array(16);
const pool: ServicePool = { best: 1, mean: 1, sampled: 0 };

export function pickResourceAware(ctx: PickContext): Slot | undefined {
  const { slots, now } = ctx;
  const stale = ctx.settings.metricsStaleMs;
  if (costs.length < slots.length) costs = new Float64Array(slots.length * 2);
  servicePool(slots, now, pool);
  let anyCold = false;
  let best = Number.POSITIVE_INFINITY;
  // backends at their limit: how fast they free a slot, and the cheapest one's cost once it has
  let drainRate = 0;
  let busyBest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    costs[i] = Number.NaN;
    if (!isCandidate(s, ctx.tried)) continue;
    if (ctx.limited && !hasRoom(s)) {
      const svc = serviceEstimate(s, now, pool, ctx.settings.latencyDecayMs);
      // service time is latency ÷ (requests ahead + ½): one answer per svc, for a serial backend and a parallel one alike
      drainRate += 1 / svc;
      const freed = (resourceCost(ctx, s, pool) * s.inFlight) / (s.inFlight + 1);
      if (freed < busyBest) busyBest = freed;
      continue;
    }
    const hot = isHot(s, now, stale);
    // lexicographic: any cold backend beats every hot one
    if (hot && anyCold) continue;
    const cost = resourceCost(ctx, s, pool);
    costs[i] = hot ? -cost : cost; // the sign remembers hotness for the second pass
    if (!hot && !anyCold) {
      anyCold = true;
      best = cost;
    } else if (cost < best) best = cost;
  }
  if (best === Number.POSITIVE_INFINITY) return undefined;
  // The slow-server rule (a threshold policy, as for heterogeneous servers sharing one queue):
  // a free backend whose expected completion is later than waiting for a busy one to free
  // (the requests waiting ahead, at the busy backends' drain rate) is not used; the request
  // waits in the service queue. A 0.125-core backend beside two 0.5-core ones then takes
  // requests only when enough wait that it finishes one sooner, not whenever it is idle: its
  // 4× slower answers stay out of the p99 at 80 % load and add capacity at 120 %.
  if (drainRate > 0 && best > busyBest + (ctx.waiting + 1) / drainRate) return undefined;
  const busyLimit = best * (1 + TIE_BAND_BUSY);
  const idleLimit = best * (1 + TIE_BAND_IDLE);
  let chosen: Slot | undefined;
  let ties = 0;
  for (let i = 0; i < slots.length; i++) {
    const c = costs[i]!;
    if (Number.isNaN(c) || (anyCold && c < 0)) continue;
    const cost = Math.abs(c);
    if (cost > busyLimit && (cost > idleLimit || slots[i]!.inFlight > 0)) continue;
    const s = slots[i]!;
    if (chosen === undefined || s.sentAt < chosen.sentAt) {
      chosen = s;
      ties = 1;
    } else if (s.sentAt === chosen.sentAt && ctx.random() * ++ties < 1) chosen = s;
  }
  return chosen;
}
