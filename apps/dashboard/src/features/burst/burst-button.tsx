// Sends a short burst of /load through the balancer, so the effect shows without a terminal.
import { useState } from 'react';
import { api } from '../../api/client';

export function BurstButton({ onError }: { onError: (err: unknown) => void }) {
  const [running, setRunning] = useState(false);
  const [last, setLast] = useState<string>();
  return (
    <div className="burst">
      <button
        type="button"
        disabled={running}
        onClick={async () => {
          setRunning(true);
          try {
            const r = await api.burst(300, 8, 20);
            setLast(`${r.ok}/${r.sent} ok in ${(r.durationMs / 1000).toFixed(1)} s`);
          } catch (err) {
            onError(err);
          } finally {
            setRunning(false);
          }
        }}
      >
        {running ? 'Sending…' : 'Send a burst of /load'}
      </button>
      {last ? <span className="burst-result">{last}</span> : null}
    </div>
  );
}
