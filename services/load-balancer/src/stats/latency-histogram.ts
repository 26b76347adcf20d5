// Fixed log-spaced latency buckets (≈ 10 % wide, 0.1 ms .. ~100 s): recording is one
// array increment, quantiles are a scan; no per-request allocation.
const MIN_MS = 0.1;
const GROWTH = 1.1;
export const BUCKETS = 146; // 0.1 · 1.1^145 ≈ 100 s
const LOG_GROWTH = Math.log(GROWTH);

export function bucketOf(ms: number): number {
  if (!(ms > MIN_MS)) return 0;
  const b = Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH);
  return b >= BUCKETS ? BUCKETS - 1 : b;
}

export function bucketUpperMs(b: number): number {
  return MIN_MS * GROWTH ** b;
}

/**
 * q-quantile (0..1) of the counts, as the bucket's upper bound; null ("no data") when there is
 * no sample. `total` must be the counts' sum: a total above it (requests without a latency)
 * would rank past the last sample; the sum caps it rather than answering the top bucket.
 */
export function quantileOf(counts: Uint32Array, total: number, q: number): number | null {
  let sum = 0;
  for (let b = 0; b < counts.length; b++) sum += counts[b]!;
  const n = Math.min(total, sum);
  if (n === 0) return null;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let b = 0; b < counts.length; b++) {
    seen += counts[b]!;
    if (seen >= rank) return bucketUpperMs(b);
  }
  return bucketUpperMs(counts.length - 1);
}
