// Types of open-loop.mjs (plain JavaScript so that `node scripts/load.mjs` runs without a build).

export interface Sample {
  /** ms since the generator started. */
  at: number;
  ms: number;
  /** HTTP status; 0 when the request failed without one (reset, timeout). */
  status: number;
  instance?: string | undefined;
  error?: string | undefined;
}

export interface OpenLoopOptions {
  url: string;
  /** Requests per second. */
  rate: number;
  maxInFlight: number;
  maxRequests: number;
  timeoutMs?: number;
}

export interface OpenLoop {
  readonly samples: Sample[];
  /** Requests not sent because maxInFlight were outstanding. */
  readonly skipped: number;
  /** ms since start (the clock of `samples`). */
  now(): number;
  setRate(perSecond: number): void;
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

export function openLoop(opts: OpenLoopOptions): OpenLoop;
/** Nearest-rank quantile; NaN for none. */
export function quantile(values: readonly number[], q: number): number;
/** Samples sent in [from, to) ms. */
export function between(samples: readonly Sample[], from: number, to: number): Sample[];
/** Share of the answered samples per instance. */
export function shares(samples: readonly Sample[]): Record<string, number>;
