// A backend's CPU quota as the kernel enforces it (CFS: `docker run --cpus c` lets the
// container use c × 100 ms of CPU per 100 ms period, at full speed until the budget is spent,
// then nothing until the next period). A mean service time hides this: a 0.5-core backend
// answers a 12.6 ms request in 12.6 ms while it has budget and ~50 ms later once it has none.
// At light or paced load the backends are idle at almost every pick, so a picker that prefers
// the one that answered faster sends it a streak until its budget is gone and its answers come
// back throttled (the heterogeneous benchmark at 80 %: overload-sim.test.ts › heterogeneous as
// the benchmark runs it).
//
// The model is a token bucket per backend: it fills at the CPU limit (cores = CPU-ms per ms)
// up to QUOTA_BURST of one period's budget, and each dispatch spends the backend's CPU per request. The CPU
// per request is what the capacity learner measured (completions per second at 100 % of the
// limit, from the engine's CPU readings): CPU the container really spent, so an I/O-bound
// backend spends little and is never held back, and a burner inside the same container spends
// the same budget the kernel counts. Without a CPU limit or a learned capacity the bucket is
// off. Pure: reads and writes the slot's two fields, no clock of its own.
import type { Slot } from './slot.js';

/** The kernel's default CFS period (cpu.cfs_period_us = 100000). */
export const CFS_PERIOD_MS = 100;
/**
 * The budget an idle backend is counted on for at once, as a share of one period's: the
 * balancer cannot see where in its period a backend is, and a request sent at a random moment
 * finds on average half the period left. A whole period's budget as the burst, with the refill
 * on top, let a streak spend twice what the kernel allows in one period (the simulation's
 * resource-aware p99 stayed at 59.4 ms against least-connections' 57.0; at a half, 57.0).
 */
export const QUOTA_BURST = 0.5;

/**
 * CPU-ms one request spends on `s`: its limit over its learned capacity, else what its pool's
 * backends spend (a backend that never got a request learns nothing of its own); null
 * without a limit or any learned capacity.
 */
export function cpuPerRequestMs(s: Slot): number | null {
  const limit = s.spec.cpuLimit;
  if (limit === undefined || !(limit > 0)) return null;
  if (s.capacity === null || !(s.capacity > 0)) return s.poolCpuMs;
  return (1000 * limit) / s.capacity;
}

/**
 * The most budget `s` is counted on for at once (CPU-ms): QUOTA_BURST of a period's, or one
 * request's CPU when that fits in a whole period's budget but not in the burst. A request
 * that fits runs unthrottled on a backend that rested a period, whatever the period's phase:
 * the kernel then has the whole budget for it. Without this a 0.125-core backend (12.5 ms a
 * period) with 12 ms of CPU per request always showed a wait, and resource-aware left its
 * 11 % of the capacity unused where weighted round-robin used it (heterogeneous at 80 %).
 */
export function quotaCapMs(s: Slot, cpuMs: number | null): number {
  const period = (s.spec.cpuLimit ?? 0) * CFS_PERIOD_MS;
  const burst = period * QUOTA_BURST;
  return cpuMs !== null && cpuMs > burst && cpuMs <= period ? cpuMs : burst;
}

/** Budget left at `now` (CPU-ms, 0 to quotaCapMs). */
export function quotaTokens(s: Slot, now: number, cpuMs: number | null = cpuPerRequestMs(s)): number {
  const limit = s.spec.cpuLimit ?? 0;
  const cap = quotaCapMs(s, cpuMs);
  if (s.quotaAt === null) return cap;
  return Math.min(cap, s.quotaTokens + Math.max(0, now - s.quotaAt) * limit);
}

/**
 * How long one more request would wait for budget on `s` (ms): the shortfall at the limit's
 * refill rate, at most its whole CPU at that rate; 0 with enough budget or no quota model.
 */
export function quotaWaitMs(s: Slot, now: number): number {
  const c = cpuPerRequestMs(s);
  if (c === null) return 0;
  const short = c - quotaTokens(s, now, c);
  return short > 0 ? short / s.spec.cpuLimit! : 0;
}

/**
 * A request dispatched to `s` at `now` spends its CPU from the bucket, down to empty and no
 * further. Work sent beyond the budget queues inside the backend, and in-flight × service time
 * already prices that queue; a debt here would count it twice, and it would grow without
 * bound whenever the CPU-per-request estimate runs a little high at a rate near the limit (the
 * heterogeneous benchmark at 80 %, 2026-12-07 08:41: the two 0.5-core backends' debt priced
 * them above the 0.125-core one, which then got 16 % of the requests and p99 went to 2.4 s).
 */
export function spendQuota(s: Slot, now: number): void {
  const c = cpuPerRequestMs(s);
  if (c === null) return;
  s.quotaTokens = Math.max(0, quotaTokens(s, now, c) - c);
  s.quotaAt = now;
}
