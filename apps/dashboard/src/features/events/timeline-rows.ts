// Pure: backend events (GET /api/events) → the timeline's rows, newest first. A change
// that takes capacity away (ejected, unhealthy, a drain that timed out) reads as bad, one
// that gives it back as good, the rest as neutral.
import type { BackendEvent } from '@headroom/shared/contracts';

export type Tone = 'bad' | 'good' | 'neutral';

export interface TimelineRow {
  key: number;
  /** Local wall-clock time hh:mm:ss. */
  time: string;
  name: string;
  change: string;
  reason: string;
  tone: Tone;
}

export const TIMELINE_ROWS = 50;

export function toneOf(e: Pick<BackendEvent, 'to' | 'code'>): Tone {
  if (e.to === 'ejected' || e.to === 'unhealthy' || e.code === 'drain-timeout') return 'bad';
  if (e.to === 'healthy' || e.to === 'undrained') return 'good';
  return 'neutral';
}

const pad = (n: number) => String(n).padStart(2, '0');

export function timelineRows(events: readonly BackendEvent[], limit = TIMELINE_ROWS): TimelineRow[] {
  const out: TimelineRow[] = [];
  for (let i = events.length - 1; i >= 0 && out.length < limit; i--) {
    const e = events[i]!;
    const d = new Date(e.at);
    out.push({
      key: e.seq,
      time: `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`,
      name: e.name,
      change: `${e.from} → ${e.to}`,
      reason: e.reason,
      tone: toneOf(e),
    });
  }
  return out;
}
