// The autoscaler's current and desired replicas and its recent decisions with reasons.
import type { AutoscalerStatus, Decision } from '@headroom/shared/contracts';
import { clockTime } from '../../format/numbers';

export interface AutoscalerPanelProps {
  configured: boolean;
  status: AutoscalerStatus | undefined;
  decisions: Decision[] | undefined;
  error: string | undefined;
}

export function AutoscalerPanel({ configured, status, decisions, error }: AutoscalerPanelProps) {
  if (!configured) {
    return (
      <p className="note" data-testid="no-autoscaler">
        No autoscaler is configured. Start the balancer with <code>AUTOSCALER_URL</code> pointing at the
        autoscaler's admin port to see its replicas and decisions here.
      </p>
    );
  }
  if (error && !status) return <p className="note warn">Autoscaler unreachable: {error}</p>;
  if (!status) return <p className="note">Loading…</p>;
  return (
    <div className="autoscaler">
      <div className="replicas">
        <Stat label="Current" value={status.current} />
        <Stat label="Desired" value={status.desired} />
        <Stat label="Ready" value={status.ready} />
        <Stat label="Range" value={`${status.min}–${status.max}`} />
        {status.paused || status.holdReason ? (
          <span className="hold">on hold: {status.holdReason ?? 'paused'}</span>
        ) : null}
      </div>
      <ol className="decisions">
        {(decisions ?? [])
          .slice(-8)
          .reverse()
          .map((d) => (
            <li key={`${d.at}-${d.reason}`}>
              <time>{clockTime(Date.parse(d.at))}</time>{' '}
              <strong>
                {d.current} → {d.desired}
              </strong>{' '}
              <code>{d.reason}</code> {d.message}
            </li>
          ))}
      </ol>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: number | string }) {
  return (
    <div className="stat">
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}
