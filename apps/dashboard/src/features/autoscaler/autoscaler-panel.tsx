// The autoscaler's current and desired replicas per scaled service, and its recent decisions
// (each naming its service) with reasons.
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
  // One autoscaler scales every labelled service; an older one reports only its SERVICE.
  const services = status.services && status.services.length > 0 ? status.services : [status];
  const many = services.length > 1;
  return (
    <div className="autoscaler">
      {services.map((s) => (
        <div className="replicas" key={s.service} data-testid={`autoscaler-service-${s.service}`}>
          {many ? <strong className="service-name">{s.service}</strong> : null}
          <Stat label="Current" value={s.current} />
          <Stat label="Desired" value={s.desired} />
          <Stat label="Ready" value={s.ready} />
          <Stat label="Range" value={`${s.min}–${s.max}`} />
          {status.paused || s.holdReason ? (
            <span className="hold">on hold: {s.holdReason ?? 'paused'}</span>
          ) : null}
          {s.sleeping ? <span className="hold">sleeping</span> : null}
        </div>
      ))}
      <ol className="decisions">
        {(decisions ?? [])
          .slice(-8)
          .reverse()
          .map((d) => (
            <li key={`${d.service}-${d.at}-${d.reason}`}>
              <time>{clockTime(Date.parse(d.at))}</time> {many ? <em>{d.service}</em> : null}{' '}
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
