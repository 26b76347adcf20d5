// Asked once when the balancer answers 401: the admin token is kept for this session.
import { useState } from 'react';

/** Where a compose user finds the generated token (the balancer logs `admin token generated`). */
export const TOKEN_LOG_COMMAND =
  'docker compose -f deploy/docker-compose.yml logs load-balancer | grep "admin token"';

export function TokenPrompt({
  onSubmit,
  onCancel,
  rejected,
}: {
  onSubmit: (token: string) => void;
  onCancel: () => void;
  rejected: boolean;
}) {
  const [token, setToken] = useState('');
  return (
    <div className="modal" role="dialog" aria-label="Admin token">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) onSubmit(token.trim());
        }}
      >
        <h2>Admin token required</h2>
        <p>
          {rejected
            ? 'The balancer rejected the token (401). Check ADMIN_TOKEN and try again.'
            : 'This balancer requires an admin token for changes, or for every read with ADMIN_READS_NEED_TOKEN (401). It is kept for this browser session only.'}
        </p>
        <p className="hint">
          The token is the balancer's <code>ADMIN_TOKEN</code>. The compose stack without one generates it on
          its first start and logs it once: <code>{TOKEN_LOG_COMMAND}</code>
        </p>
        <input type="password" aria-label="token" value={token} onChange={(e) => setToken(e.target.value)} />
        <div className="actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit">Use token</button>
        </div>
      </form>
    </div>
  );
}
