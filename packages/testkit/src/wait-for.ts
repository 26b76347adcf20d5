// Poll until a condition holds: tests wait on facts, never on sleeps.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  message?: string;
  /** Gives up at once, rejecting with the signal's reason (a fact that makes waiting pointless). */
  signal?: AbortSignal;
}

/** Calls `check` until it returns a value other than undefined/false (or stops throwing). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  opts: WaitOptions = {},
): Promise<Exclude<T, false | undefined>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(
        `waitFor timed out after ${timeoutMs} ms${opts.message ? ` (${opts.message})` : ''}${why}`,
      );
    }
    await sleep(intervalMs, undefined, { signal: opts.signal }).catch(() => opts.signal?.throwIfAborted());
  }
}
