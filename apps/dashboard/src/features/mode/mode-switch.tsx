// The balancing mode switch: shows the server's mode and asks it to change.
import { BALANCER_MODES, type BalancerMode } from '@headroom/shared/contracts';

export const MODE_LABELS: Record<BalancerMode, string> = {
  'resource-aware': 'Resource-aware',
  'least-connections': 'Least connections',
  'round-robin': 'Round-robin',
  latency: 'Latency',
};

export interface ModeSwitchProps {
  mode: BalancerMode | undefined;
  pending: BalancerMode | undefined;
  onChange: (mode: BalancerMode) => void;
}

export function ModeSwitch({ mode, pending, onChange }: ModeSwitchProps) {
  return (
    <fieldset className="mode-switch" aria-label="Balancing mode">
      {BALANCER_MODES.map((m) => (
        <button
          key={m}
          type="button"
          aria-pressed={mode === m}
          data-mode={m}
          className={mode === m ? 'active' : pending === m ? 'pending' : ''}
          disabled={pending !== undefined}
          onClick={() => onChange(m)}
        >
          {MODE_LABELS[m]}
        </button>
      ))}
    </fieldset>
  );
}
