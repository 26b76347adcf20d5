// Pure: exponential backoff with full jitter for reconnecting to the engine.
export function backoffMs(attempt: number, random: number, baseMs = 250, maxMs = 15_000): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
  return Math.round(cap / 2 + (random * cap) / 2);
}
