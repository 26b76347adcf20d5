import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { usePolling } from './use-polling';

function Probe({ load }: { load: () => Promise<number> }) {
  const { data, error } = usePolling(load, 1000);
  return (
    <span data-testid="probe">
      {String(data)} {error ? 'error' : 'ok'}
    </span>
  );
}

let hidden = false;
beforeEach(() => {
  vi.useFakeTimers();
  hidden = false;
  vi.spyOn(document, 'hidden', 'get').mockImplementation(() => hidden);
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const text = () => screen.getByTestId('probe').textContent;

describe('usePolling', () => {
  it('polls on an interval, keeps the last value through an error and recovers', async () => {
    const results: Array<number | Error> = [1, new Error('down'), 3];
    const load = vi.fn(async () => {
      const r = results.shift() ?? 4;
      if (r instanceof Error) throw r;
      return r;
    });
    render(<Probe load={load} />);
    await act(async () => {});
    expect(text()).toBe('1 ok');
    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(text()).toBe('1 error');
    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(text()).toBe('3 ok');
  });

  it('stops while the tab is hidden and polls at once when it is visible again', async () => {
    let n = 0;
    const load = vi.fn(async () => ++n);
    render(<Probe load={load} />);
    await act(async () => {});
    hidden = true;
    await act(() => vi.advanceTimersByTimeAsync(1000)); // the poll already scheduled runs
    const callsWhenHidden = load.mock.calls.length;
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(load.mock.calls.length).toBe(callsWhenHidden);
    hidden = false;
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    expect(load.mock.calls.length).toBe(callsWhenHidden + 1);
    expect(text()).toBe(`${callsWhenHidden + 1} ok`);
  });
});
