import type { BackendView } from '@headroom/shared/contracts';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendsTable } from './backends-table';

const backend = (id: string, extra: Partial<BackendView> = {}): BackendView => ({
  id,
  url: `http://10.0.0.1:300${id.length}`,
  name: `backend-${id}`,
  service: 'backend',
  source: 'docker',
  state: 'healthy',
  stateReason: null,
  inFlight: 3,
  requests: 10,
  errors: 0,
  rps: 12.5,
  cpu: 0.42,
  mem: 0.1,
  score: 0.66,
  metricsAgeMs: 400,
  latencyMs: 5,
  weight: 1,
  effectiveWeight: 1,
  sticky: { kind: 'none' },
  ...extra,
});

afterEach(cleanup);

const cells = (id: string) => {
  const row = screen.getByTestId(`backend-${id}`);
  const headers = screen.getAllByRole('columnheader').map((h) => h.textContent ?? '');
  const values = within(row)
    .getAllByRole('cell')
    .map((c) => c.textContent ?? '');
  return Object.fromEntries(headers.map((h, i) => [h, values[i]]));
};

describe('BackendsTable', () => {
  it('shows one row per backend with every column formatted', () => {
    render(
      <BackendsTable
        backends={[
          backend('a'),
          backend('b', {
            state: 'draining',
            stateReason: 'container stopping',
            cpu: null,
            score: null,
            metricsAgeMs: null,
            weight: 4,
            effectiveWeight: 1.25,
            sticky: { kind: 'cookie', cookie: 'hr_s' },
          }),
        ]}
        burning={{ a: true }}
        onToggleCpu={() => {}}
      />,
    );
    expect(cells('a')).toEqual({
      Backend: 'backend-ahttp://10.0.0.1:3001',
      State: 'healthy',
      'In flight': '3',
      Rate: '13/s',
      CPU: '42%',
      Memory: '10%',
      Score: '0.66',
      Latency: '5.0 ms',
      'Metrics age': '400 ms',
      Weight: '1.00',
      Effective: '1.00',
      Sticky: '—',
      'CPU stress': 'Stop stress',
    });
    expect(cells('b')).toMatchObject({
      State: 'draining',
      CPU: '—',
      Score: '—',
      'Metrics age': '—',
      Weight: '4.00',
      Effective: '1.25',
      Sticky: 'cookie hr_s',
      'CPU stress': 'Stress CPU',
    });
    // state is said in words and in colour, with the reason on hover
    const draining = screen.getByText('draining');
    expect(draining.className).toContain('state-draining');
    expect(draining.getAttribute('title')).toBe('container stopping');
  });

  it('shows header stickiness and calls back with the backend id on the stress toggle', () => {
    const onToggle = vi.fn();
    render(
      <BackendsTable
        backends={[backend('x', { sticky: { kind: 'header', header: 'x-user' } })]}
        burning={{}}
        onToggleCpu={onToggle}
      />,
    );
    expect(cells('x').Sticky).toBe('header x-user');
    fireEvent.click(screen.getByRole('button', { name: 'Stress CPU' }));
    expect(onToggle).toHaveBeenCalledWith('x');
  });

  it('says how to add backends when there are none', () => {
    render(<BackendsTable backends={[]} burning={{}} onToggleCpu={() => {}} />);
    expect(screen.getByText(/No backends yet/)).toBeTruthy();
  });
});
