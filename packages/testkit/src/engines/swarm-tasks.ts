// What a Swarm service's tasks are doing, as the manager reports them: the multi-node tests ask
// where each running task landed (the balancer's view is checked against it).
import { lines } from './host.js';
import type { Engine } from './types.js';

/**
 * Task name (= the backend's instance, its hostname) → node hostname (= engine name), for the
 * tasks of `service` that are desired and currently running.
 */
export function runningTaskNodes(manager: Engine, service: string): Map<string, string> {
  const out = manager.docker(
    'service',
    'ps',
    service,
    '--filter',
    'desired-state=running',
    '--format',
    '{{.Name}} {{.Node}} {{.CurrentState}}',
  );
  return new Map(
    lines(out)
      .filter((l) => l.includes(' Running '))
      .map((l) => l.split(' ').slice(0, 2) as [string, string]),
  );
}
