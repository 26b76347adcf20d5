// Pure: a crash-loop guard. Replicas that die are replaced through the normal count; when they
// keep dying (≥ 3 deaths in 5 minutes), new ones are started only after an exponential pause.

export const DEATH_WINDOW_MS = 5 * 60_000;
const FREE_DEATHS = 2;
const BASE_MS = 10_000;
const CAP_MS = 5 * 60_000;

/** Deaths still inside the window (for the caller to keep). */
export function recentDeaths(deaths: readonly number[], now: number): number[] {
  return deaths.filter((t) => t > now - DEATH_WINDOW_MS && t <= now);
}

/** When the next replica may be created: `now` (no pause) or later. */
export function nextCreateAt(deaths: readonly number[], now: number): number {
  const recent = recentDeaths(deaths, now);
  if (recent.length <= FREE_DEATHS) return now;
  const last = Math.max(...recent);
  const pause = Math.min(CAP_MS, BASE_MS * 2 ** (recent.length - FREE_DEATHS - 1));
  return Math.max(now, last + pause);
}
