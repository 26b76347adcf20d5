// Open-loop load for the walkthrough test: requests leave at a set rate whatever the
// answers do (a closed loop slows down with the server and hides queueing in its latency).
// Bounded: at most `maxRequests` in all and `maxInFlight` at once (a request that would pass
// that is counted as skipped, never queued), and only to the URL given (127.0.0.1).

export interface Sample {
  /** ms since the generator started. */
  at: number;
  ms: number;
  status: number;
  instance?: string | undefined;
  error?: string | undefined;
}

export interface OpenLoop {
  readonly samples: Sample[];
  /** Requests not sent because maxInFlight were outstanding. */
  readonly skipped: number;
  /** ms since start (the clock of `samples`). */
  now(): number;
  setRate(perSecond: number): void;
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

export function openLoop(opts: {
  url: string;
  rate: number;
  maxInFlight: number;
  maxRequests: number;
  timeoutMs?: number;
}): OpenLoop {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const samples: Sample[] = [];
  const inFlight = new Set<Promise<void>>();
  let rate = opts.rate;
  // requests owed at the current rate since the last rate change
  let owedFrom = 0;
  let owedBase = 0;
  let sent = 0;
  let skipped = 0;
  let stopped = false;

  const fire = () => {
    const at = now();
    const p = (async () => {
      try {
        const res = await fetch(opts.url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
        const body = await res.text();
        let instance: string | undefined;
        try {
          instance = (JSON.parse(body) as { instance?: string }).instance;
        } catch {}
        samples.push({ at, ms: now() - at, status: res.status, instance });
      } catch (err) {
        samples.push({ at, ms: now() - at, status: 0, error: (err as Error).message });
      }
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };

  const timer = setInterval(() => {
    if (stopped) return;
    const due = owedBase + Math.floor(((now() - owedFrom) / 1000) * rate);
    while (sent < due && sent < opts.maxRequests) {
      sent++;
      if (inFlight.size >= opts.maxInFlight) skipped++;
      else fire();
    }
  }, 5);

  return {
    samples,
    get skipped() {
      return skipped;
    },
    now,
    setRate(perSecond: number) {
      owedBase = sent;
      owedFrom = now();
      rate = perSecond;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...inFlight]);
    },
  };
}

/** Nearest-rank quantile of latencies (ms); NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Samples sent in [from, to) ms. */
export function between(samples: readonly Sample[], from: number, to: number): Sample[] {
  return samples.filter((s) => s.at >= from && s.at < to);
}

/** Share of the answered samples per instance. */
export function shares(samples: readonly Sample[]): Record<string, number> {
  const ok = samples.filter((s) => s.instance !== undefined);
  const out: Record<string, number> = {};
  for (const s of ok) out[s.instance!] = (out[s.instance!] ?? 0) + 1;
  for (const k of Object.keys(out)) out[k] = out[k]! / ok.length;
  return out;
}
