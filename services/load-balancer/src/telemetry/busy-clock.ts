// Requests in flight integrated over time, per backend: the counter behind
// headroom_lb_replica_busy_seconds_total, whose rate() over a window is the time-averaged
// number of requests in flight there (Little's law; Knative's "average concurrency"). Counted
// per attempt from dispatch to the attempt's end, so it needs nothing from the app.
// Hot path: one Map lookup and a few additions per attempt start and end; a record is made
// once per backend, never per request.

interface Clock {
  inFlight: number;
  /** ms × requests accumulated up to `last`. */
  areaMs: number;
  /** ms of the last change. */
  last: number;
}

export class BusyClock {
  private readonly clocks = new Map<string, Clock>();

  private advance(id: string, now: number): Clock {
    let c = this.clocks.get(id);
    if (c === undefined) {
      c = { inFlight: 0, areaMs: 0, last: now };
      this.clocks.set(id, c);
      return c;
    }
    // a clock that steps back (wall-clock adjustment) adds nothing, never a negative area
    if (now > c.last) {
      c.areaMs += c.inFlight * (now - c.last);
      c.last = now;
    }
    return c;
  }

  started(id: string, now: number): void {
    this.advance(id, now).inFlight++;
  }

  ended(id: string, now: number): void {
    const c = this.advance(id, now);
    if (c.inFlight > 0) c.inFlight--;
  }

  /** Request-seconds accumulated by `id` up to `now` (open requests included); undefined before its first request. */
  totalSeconds(id: string, now: number): number | undefined {
    const c = this.clocks.get(id);
    if (c === undefined) return undefined;
    return (c.areaMs + (now > c.last ? c.inFlight * (now - c.last) : 0)) / 1000;
  }

  forget(id: string): void {
    this.clocks.delete(id);
  }
}
