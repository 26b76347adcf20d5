// Load generators: wrk (C, so the generator steals little CPU from what is measured) for
// maximum rate, autocannon for a fixed rate, and an open-loop pacer for the balancing
// scenarios that measures latency from each request's *intended* send time, so a
// stalled backend cannot hide its queue (no coordinated omission).
import { execFileSync } from 'node:child_process';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { treeCpuSeconds } from './cpu.js';
import type { Reject } from './overload.js';

export interface MaxRate {
  rps: number;
  /** Requests completed in the run (wrk's count), when known. */
  requests?: number;
  p50: number;
  p99: number;
  errors: number;
}

function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

/** Closed-loop maximum rate with wrk: `connections` keep-alive connections for `seconds`. */
export function wrkMaxRate(
  url: string,
  connections: number,
  seconds: number,
  headers: string[] = [],
): MaxRate {
  const extra = headers.flatMap((h) => ['-H', h]);
  const out = execFileSync('wrk', [
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    ...extra,
    url,
  ]).toString();
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const p50 = ms(/ 50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = ms(/ 99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const errors =
    Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
    Number(/Socket errors:.*?timeout (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, requests, p50, p99, errors };
}

/** Fixed offered rate with autocannon (`overallRate`); latency percentiles in ms. */
export async function autocannonAtRate(
  url: string,
  rate: number,
  connections: number,
  seconds: number,
): Promise<MaxRate> {
  const r = await autocannon({ url, connections, duration: seconds, overallRate: rate });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

/** A phase at its own rate before the measured one (paced). */
export interface Fill {
  rate: number;
  seconds: number;
}

export interface PacedResult {
  sent: number;
  ok: number;
  errors: number;
  latencies: number[];
  /** [ms since start, instance] per completed request. */
  log: Array<[number, string]>;
  /** Non-2xx answers (status ≥ 400): status, Headroom's shed cause, ms from sending to the answer. */
  rejects: Reject[];
  /** Requests with no answer (connection refused or reset, client timeout). */
  failed: number;
  /** With `cpuPid`: that process's CPU (with its children) over the run, in cores (CPU s ÷ wall s). */
  cpuCores?: number;
}

/**
 * Open-loop: `rate` requests/s for `seconds`, each timed from when it was due. `connections`:
 * enough that no request waits in the client for one (at overload a balancer's queue holds
 * seconds of arrivals, each on its own connection).
 */
export async function paced(
  url: string,
  rate: number,
  seconds: number,
  timeoutMs = 10_000,
  connections = 512,
  /** A process whose CPU over the run to report (the proxy under test). */
  cpuPid?: number,
  /**
   * A phase before the measured one, at its own rate, without a gap: its requests are not
   * measured (no latency, no rejection), but their 2xx answers are in `log`, whose times then
   * count from the measured phase's start (negative during the fill).
   */
  fill?: Fill,
): Promise<PacedResult> {
  const agent = new Agent({
    connections,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const result: PacedResult = { sent: 0, ok: 0, errors: 0, latencies: [], log: [], rejects: [], failed: 0 };
  const filling = fill ? Math.round(fill.rate * fill.seconds) : 0;
  const total = filling + Math.round(rate * seconds);
  const interval = 1000 / rate;
  const began = performance.now();
  const start = began + (fill ? fill.seconds * 1000 : 0);
  const cpuBefore = cpuPid === undefined ? 0 : treeCpuSeconds(cpuPid);
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const measured = i >= filling;
    const due = measured ? start + (i - filling) * interval : began + (i * 1000) / fill!.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (measured) result.sent++;
    const sentAt = performance.now();
    inflight.push(
      request(url, { dispatcher: agent })
        .then(async (res) => {
          await res.body.dump();
          const done = performance.now();
          if (!measured) {
            const who = res.headers['x-backend-instance'];
            if (res.statusCode < 400) result.log.push([done - start, typeof who === 'string' ? who : '?']);
            return;
          }
          if (res.statusCode >= 400) {
            result.errors++;
            const cause = res.headers['x-headroom-shed'];
            result.rejects.push({
              status: res.statusCode,
              cause: typeof cause === 'string' ? cause : undefined,
              ms: done - sentAt,
            });
            return;
          }
          result.ok++;
          result.latencies.push(done - due);
          const who = res.headers['x-backend-instance'];
          result.log.push([done - start, typeof who === 'string' ? who : '?']);
        })
        .catch(() => {
          if (!measured) return;
          result.errors++;
          result.failed++;
        }),
    );
  }
  await Promise.all(inflight);
  if (cpuPid !== undefined)
    result.cpuCores = (treeCpuSeconds(cpuPid) - cpuBefore) / ((performance.now() - began) / 1000);
  await agent.close();
  return result;
}

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export function median(values: number[]): number {
  return quantile(values, 0.5);
}
