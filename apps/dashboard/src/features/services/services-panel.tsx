// The route table: every service the balancer fronts, with its routes, mode, sleep state and
// healthy backends (GET /api/services). Picking one narrows the page (backends table, mode
// switch) to that service; "All services" is the whole balancer.
import type { ServiceSummary } from '@headroom/shared/contracts';
import { MODE_LABELS } from '../mode/mode-switch';
import { routeLabel, selectableServices } from './route-label';

export interface ServicesPanelProps {
  services: readonly ServiceSummary[] | undefined;
  selected: string | undefined;
  onSelect: (service: string | undefined) => void;
}

export function ServicesPanel({ services, selected, onSelect }: ServicesPanelProps) {
  const list = selectableServices(services ?? []);
  if (list.length === 0) return <p className="empty">No service yet.</p>;
  return (
    <div className="services">
      <label className="service-select">
        Show{' '}
        <select
          aria-label="Service"
          value={selected ?? ''}
          onChange={(e) => onSelect(e.target.value === '' ? undefined : e.target.value)}
        >
          <option value="">All services</option>
          {list.map((s) => (
            <option key={s.name} value={s.name}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <table className="routes" aria-label="Routes">
        <thead>
          <tr>
            <th>Service</th>
            <th>Routes</th>
            <th>Mode</th>
            <th>State</th>
            <th className="num">Healthy</th>
          </tr>
        </thead>
        <tbody>
          {list.map((s) => (
            <tr
              key={s.name}
              className={s.name === selected ? 'selected' : ''}
              data-testid={`service-${s.name}`}
            >
              <td>
                <button type="button" className="link" onClick={() => onSelect(s.name)}>
                  {s.name}
                </button>
              </td>
              <td>
                {s.routes.length === 0
                  ? 'catch-all (any host, any path)'
                  : s.routes.map(routeLabel).join(', ')}
              </td>
              <td>{MODE_LABELS[s.mode]}</td>
              <td>
                <span className={`state state-${s.state}`}>{s.state}</span>
              </td>
              <td className="num">
                {s.healthy}/{s.backends}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
