import type { ServiceView } from '@headroom/shared/contracts';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceState, serviceStateText } from './service-state';

const view = (extra: Partial<ServiceView>): ServiceView => ({
  name: 'web',
  state: 'awake',
  since: '2026-01-01T00:00:00.000Z',
  held: 0,
  lastRequestAt: null,
  idleAfterMs: null,
  ...extra,
});

afterEach(cleanup);

describe('service state', () => {
  it.each([
    [view({}), null],
    [view({ state: 'sleeping' }), 'web sleeping'],
    [view({ state: 'waking', held: 7 }), 'web waking · 7 held'],
  ] as [ServiceView, string | null][])('%o -> %s', (v, text) => expect(serviceStateText(v)).toBe(text));

  it('shows a badge while waking, none while awake', () => {
    const { rerender } = render(<ServiceState service={view({ state: 'waking', held: 3 })} />);
    expect(screen.getByTestId('service-state').textContent).toBe('web waking · 3 held');
    expect(screen.getByTestId('service-state').className).toContain('state-waking');
    rerender(<ServiceState service={view({})} />);
    expect(screen.queryByTestId('service-state')).toBeNull();
    rerender(<ServiceState service={undefined} />);
    expect(screen.queryByTestId('service-state')).toBeNull();
  });
});
