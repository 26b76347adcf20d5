// Polls a loader every `intervalMs` while the tab is visible; keeps the last good value
// through errors so the page degrades instead of blanking, and recovers on its own.
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  refresh: () => void;
}

export function usePolling<T>(load: () => Promise<T>, intervalMs: number, enabled = true): Polled<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<unknown>();
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` restarts the loop when refresh() is called
  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    const schedule = () => {
      clearTimeout(timer);
      // A hidden tab stops polling; becoming visible again polls at once (below).
      if (!cancelled && !document.hidden) timer = setTimeout(run, intervalMs);
    };
    const run = async () => {
      if (running) return;
      running = true;
      try {
        const value = await loadRef.current();
        if (!cancelled) {
          setData(value);
          setError(undefined);
        }
      } catch (err) {
        if (!cancelled) setError(err);
      }
      running = false;
      schedule();
    };
    const onVisibility = () => {
      if (!document.hidden) {
        clearTimeout(timer);
        void run();
      }
    };
    document.addEventListener('visibilitychange', onVisibility);
    void run();
    return () => {
      cancelled = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [intervalMs, enabled, tick]);

  return { data, error, refresh };
}
