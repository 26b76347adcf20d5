// Open-loop load for the README walkthrough (`node scripts/load.mjs`) and its test: requests leave at a set rate whatever the
// answers do (a closed loop slows down with the server and hides queueing in its latency).
// Bounded: at most `maxRequests` in all and `maxInFlight` at once (a request that would pass
// that is counted as skipped, never queued), and only to the URL given (127.0.0.1).

/** @typedef {import('./open-loop.d.mts').Sample} Sample */
/** @typedef {import('./open-loop.d.mts').OpenLoop} OpenLoop */

/** @param {import('./open-loop.d.mts').OpenLoopOptions} opts @returns {OpenLoop} */
export function openLoop(opts) {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  /** @type {Sample[]} */
  const samples = [];
  /** @type {Set<Promise<void>>} */
  const inFlight = new Set();
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
        let instance;
        try {
          instance = JSON.parse(body).instance;
        } catch {}
        samples.push({ at, ms: now() - at, status: res.status, instance });
      } catch (err) {
        samples.push({
          at,
          ms: now() - at,
          status: 0,
          error: err instanceof Error ? err.message : String(err),
        });
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
    setRate(perSecond) {
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

/** Nearest-rank quantile of latencies (ms); NaN for none. @param {readonly number[]} values @param {number} q */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Samples sent in [from, to) ms. @param {readonly Sample[]} samples @param {number} from @param {number} to */
export function between(samples, from, to) {
  return samples.filter((s) => s.at >= from && s.at < to);
}

/** Share of the answered samples per instance. @param {readonly Sample[]} samples @returns {Record<string, number>} */
export function shares(samples) {
  const ok = samples.filter((s) => s.instance !== undefined);
  /** @type {Record<string, number>} */
  const out = {};
  for (const s of ok) out[String(s.instance)] = (out[String(s.instance)] ?? 0) + 1;
  for (const k of Object.keys(out)) out[k] = (out[k] ?? 0) / ok.length;
  return out;
}
