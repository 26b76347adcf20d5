// Sends a short burst of /load through the balancer, so the effect shows without a terminal.
// The call goes through the page's `run`, like every admin action: on 401 the page asks for
// the token and re-runs this same call with it (a stale 401 replayed instead would clear a
// token that was right).
import { useState } from 'react';
import { api } from '../../api/client';

export function BurstButton({ run }: { run: (action: () => Promise<void>) => Promise<void> }) {
  const [running, setRunning] = useState(false);
  const [last, setLast] = useState<string>();
  return (
    <div className="burst">
      <button
        type="button"
        disabled={running}
        onClick={() =>
          void run(async () => {
            setRunning(true);
            try {
              const r = await api.burst(300, 8, 20);
              setLast(`${r.ok}/${r.sent} ok in ${(r.durationMs / 1000).toFixed(1)} s`);
            } finally {
              setRunning(false);
            }
          })
        }
      >
        {running ? 'Sending…' : 'Send a burst of /load'}
      </button>
      {last ? <span className="burst-result">{last}</span> : null}
    </div>
  );
}
