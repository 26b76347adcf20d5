// Default process/runtime metrics for every service's registry, minus the prom-client
// gauges whose names end in _total (nodejs_active_*_total): promtool's metric lint
// rejects a non-counter with that suffix, and the same values are exported without it.
import { collectDefaultMetrics, type Registry } from 'prom-client';

const LINT_FAILING = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of LINT_FAILING) registry.removeSingleMetric(name);
}
