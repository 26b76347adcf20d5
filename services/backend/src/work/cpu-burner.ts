// Background CPU burner: `cores` worker threads, each busy `duty` of the time. Worker
// threads keep the HTTP server responsive while the container's CPU is used up, which is
// the "noisy neighbour" a resource-aware balancer must notice.
import { Worker } from 'node:worker_threads';

export interface BurnerState {
  on: boolean;
  cores: number;
  duty: number;
  maxCores: number;
}

export interface BurnerSettings {
  on?: boolean | undefined;
  cores?: number | undefined;
  duty?: number | undefined;
}

/** Pure: the next state for a toggle request. No body (or only cores/duty) flips `on`. */
export function nextBurnerState(current: BurnerState, req: BurnerSettings): BurnerState {
  const cores = Math.min(req.cores ?? current.cores, current.maxCores);
  const duty = req.duty ?? current.duty;
  const on = req.on ?? !current.on;
  return { on, cores, duty, maxCores: current.maxCores };
}

export class CpuBurner {
  private workers: Worker[] = [];
  private state: BurnerState;
  private readonly workerUrl = new URL('./cpu-burner.worker.js', import.meta.url);

  constructor(maxCores: number) {
    this.state = { on: false, cores: maxCores, duty: 1, maxCores };
  }

  get current(): BurnerState {
    return { ...this.state };
  }

  async apply(req: BurnerSettings): Promise<BurnerState> {
    const next = nextBurnerState(this.state, req);
    const wanted = next.on ? next.cores : 0;
    while (this.workers.length > wanted) {
      const w = this.workers.pop()!;
      w.postMessage({ type: 'stop' });
      // terminate as a backstop; the worker also exits at its next slice
      await w.terminate();
    }
    for (const w of this.workers) w.postMessage({ type: 'duty', duty: next.duty });
    while (this.workers.length < wanted) {
      const w = new Worker(this.workerUrl, { workerData: { duty: next.duty } });
      w.unref();
      this.workers.push(w);
    }
    this.state = next;
    return this.current;
  }

  async stop(): Promise<void> {
    await this.apply({ on: false });
  }
}
