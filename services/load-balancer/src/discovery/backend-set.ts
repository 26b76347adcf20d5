// What discovery publishes. The spec types live in model/ (the balancing core, the proxy and
// the prober share them; none of them imports discovery); the source contract is discovery's own.
import type { BackendSet } from '../model/backend-spec.js';

export type { BackendSet, BackendSpec } from '../model/backend-spec.js';

/** A source of backend sets. `start` resolves once the first set was published (or the first attempt failed). */
export interface BackendSource {
  start(publish: (set: BackendSet) => void): Promise<void>;
  stop(): Promise<void>;
}
