// Hashes for stickiness. Rendezvous (highest-random-weight) hashing maps a key onto the
// eligible set so that a backend leaving moves only the keys it owned; the weighted form
// (score = −ln(u)/w, lowest wins) keeps shares proportional to weight.

import { fnv1a } from '../model/short-hash.js';

export { affinityToken, fnv1a } from '../model/short-hash.js';

/** Weighted rendezvous score of (key, backend): lower wins. */
export function rendezvousScore(key: string, backendId: string, weight: number): number {
  const u = (fnv1a(backendId, fnv1a(key)) + 0.5) / 4294967296;
  return -Math.log(u) / weight;
}
