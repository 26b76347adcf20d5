// Asked once when the balancer answers 401: the admin token is kept for this session.
import { useState } from 'react';

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
            : 'This balancer requires an admin token for changes (401). It is kept for this browser session only.'}
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
