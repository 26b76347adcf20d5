// Pure: whether an engine event says a container is about to stop (so the balancer drains it
// while its stop grace runs) or runs again (so a drain for a stop is lifted). `docker stop`
// sends the container's stop signal first (a `kill` event with that signal), waits its grace
// (10 s by default), then kills it: draining at the `kill` lets in-flight requests finish and
// sends no new ones to a process that is shutting down. A `kill` with a signal that does not
// stop a process (HUP, USR1: reloads) is not a stop.

const STOPPING_SIGNALS = new Set([
  '15',
  'SIGTERM',
  'TERM',
  '9',
  'SIGKILL',
  'KILL',
  '2',
  'SIGINT',
  'INT',
  '3',
  'SIGQUIT',
  'QUIT',
]);

export interface ContainerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

export type StopDecision =
  | { kind: 'stopping'; containerId: string; why: string }
  | { kind: 'running'; containerId: string }
  | { kind: 'none' };

export function stopDecision(ev: ContainerEvent): StopDecision {
  if (ev.Type !== undefined && ev.Type !== 'container') return { kind: 'none' };
  const action = (ev.Action ?? ev.status ?? '').split(':')[0];
  const containerId = ev.Actor?.ID ?? ev.id;
  if (containerId === undefined || containerId === '') return { kind: 'none' };
  const name = ev.Actor?.Attributes?.name;
  const who = name ? `container ${name}` : `container ${containerId.slice(0, 12)}`;
  if (action === 'kill') {
    const signal = ev.Actor?.Attributes?.signal ?? '';
    if (!STOPPING_SIGNALS.has(signal.toUpperCase())) return { kind: 'none' };
    return {
      kind: 'stopping',
      containerId,
      why: `${who} is stopping (engine sent signal ${signal}): draining`,
    };
  }
  if (action === 'stop' || action === 'die')
    return { kind: 'stopping', containerId, why: `${who} stopped (${action}): draining` };
  if (action === 'start' || action === 'unpause') return { kind: 'running', containerId };
  return { kind: 'none' };
}
