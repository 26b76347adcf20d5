// The live backends table: state, load, resources, score and weights per backend.
import type { BackendView } from '@headroom/shared/contracts';
import { decimal, millis, percent, rate } from '../../format/numbers';

export interface BackendsTableProps {
  backends: BackendView[];
  burning: Record<string, boolean>;
  onToggleCpu: (id: string) => void;
}

function stickyText(b: BackendView): string {
  if (b.sticky.kind === 'cookie') return `cookie ${b.sticky.cookie}`;
  if (b.sticky.kind === 'header') return `header ${b.sticky.header}`;
  return '—';
}

export function BackendsTable({ backends, burning, onToggleCpu }: BackendsTableProps) {
  if (backends.length === 0) {
    return (
      <p className="empty">
        No backends yet. Start containers labelled lb.enable=true, or register one with POST /api/backends.
      </p>
    );
  }
  return (
    <table className="backends">
      <thead>
        <tr>
          <th>Backend</th>
          <th>State</th>
          <th className="num">In flight</th>
          <th className="num">Rate</th>
          <th className="num">CPU</th>
          <th className="num">Memory</th>
          <th className="num">Score</th>
          <th className="num">Latency</th>
          <th className="num">Metrics age</th>
          <th className="num">Weight</th>
          <th className="num">Effective</th>
          <th>Sticky</th>
          <th>CPU stress</th>
        </tr>
      </thead>
      <tbody>
        {backends.map((b) => (
          <tr key={b.id} data-testid={`backend-${b.id}`}>
            <td>
              <div className="name">{b.name}</div>
              <div className="url">{b.url}</div>
            </td>
            <td>
              <span className={`state state-${b.state}`} title={b.stateReason ?? ''}>
                {b.state}
              </span>
            </td>
            <td className="num">{b.inFlight}</td>
            <td className="num">{rate(b.rps)}</td>
            <td className="num">
              <Meter value={b.cpu} />
            </td>
            <td className="num">{percent(b.mem)}</td>
            <td className="num">{decimal(b.score)}</td>
            <td className="num">{millis(b.latencyMs)}</td>
            <td className="num">{millis(b.metricsAgeMs)}</td>
            <td className="num">{decimal(b.weight)}</td>
            <td className="num">{decimal(b.effectiveWeight)}</td>
            <td>{stickyText(b)}</td>
            <td>
              <button
                type="button"
                className={burning[b.id] ? 'toggle on' : 'toggle'}
                aria-pressed={burning[b.id] === true}
                onClick={() => onToggleCpu(b.id)}
              >
                {burning[b.id] ? 'Stop stress' : 'Stress CPU'}
              </button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Meter({ value }: { value: number | null }) {
  if (value === null) return <span>—</span>;
  const pct = Math.max(0, Math.min(1, value));
  const level = pct > 0.85 ? 'hot' : pct > 0.6 ? 'warm' : 'cool';
  return (
    <span className="meter" title={percent(value, 1)}>
      <span className={`meter-fill ${level}`} style={{ width: `${pct * 100}%` }} />
      <span className="meter-text">{percent(value)}</span>
    </span>
  );
}
