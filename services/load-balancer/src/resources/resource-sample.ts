// What resource sources publish: a backend's CPU and memory use as fractions of its
// limit, with the time they were measured. The balancer never talks to Docker itself.
import type { BackendSet } from '../discovery/backend-set.js';
import type { UsageFigures } from './replica-usage.js';

export interface ResourceSample {
  /** BackendSpec.id */
  id: string;
  /** CPU used / CPU limit (cores), 0..1 (may exceed 1 briefly); null when unknown. */
  cpu: number | null;
  /** Memory used / memory limit, 0..1; null when unknown. */
  mem: number | null;
  /** ms since epoch when measured. */
  at: number;
  /** The raw figures behind cpu and mem, when the source has them (Docker stats). */
  usage?: UsageFigures | undefined;
}

/** Keeps one live measurement per backend (e.g. one Docker stats stream per container). */
export interface ResourceSource {
  /** Called with every new BackendSet: open streams/scrapers for new backends, close removed ones. */
  update(set: BackendSet): void;
  stop(): Promise<void>;
}

export type PublishSample = (sample: ResourceSample) => void;
