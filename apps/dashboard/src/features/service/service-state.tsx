// Scale to zero (issue #19): the balanced service's state next to the backend count.
// Awake needs no badge (the backend count says it); sleeping and waking do, with the
// held count while waking (those requests wait for the first replica).
import type { ServiceView } from '@headroom/shared/contracts';

export function serviceStateText(service: ServiceView): string | null {
  if (service.state === 'awake') return null;
  if (service.state === 'sleeping') return `${service.name} sleeping`;
  return `${service.name} waking · ${service.held} held`;
}

export function ServiceState({ service }: { service: ServiceView | undefined }) {
  const text = service ? serviceStateText(service) : null;
  if (!service || text === null) return null;
  return (
    <span
      className={`state state-${service.state}`}
      data-testid="service-state"
      title={`since ${new Date(service.since).toLocaleTimeString()}`}
    >
      {text}
    </span>
  );
}
