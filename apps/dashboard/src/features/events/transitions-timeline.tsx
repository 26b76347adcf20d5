// Beside the backends table: every backend state change with its reason, newest first
// (GET /api/events), so an ejection or a drain that timed out is seen, not guessed.
import type { BackendEvent } from '@headroom/shared/contracts';
import { timelineRows } from './timeline-rows';

export function TransitionsTimeline({ events }: { events: readonly BackendEvent[] | undefined }) {
  const rows = timelineRows(events ?? []);
  return (
    <aside className="timeline" aria-label="Backend transitions">
      <h3>Transitions</h3>
      {rows.length === 0 ? (
        <p className="empty">No backend state change yet.</p>
      ) : (
        <ol>
          {rows.map((r) => (
            <li key={r.key} className={`tone-${r.tone}`} data-testid="transition">
              <time>{r.time}</time> <strong>{r.name}</strong> <span className="change">{r.change}</span>
              <div className="reason">{r.reason}</div>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
