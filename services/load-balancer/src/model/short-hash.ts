// Short stable hashes of strings, shared by the balancing core (stickiness) and discovery
// (static backend ids): here in model/ so that neither imports the other.

/** FNV-1a 32-bit of a string. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32) so that similar keys spread
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Opaque affinity-cookie value for a backend (no internal address leaks to clients). */
export function affinityToken(backendId: string): string {
  return fnv1a(backendId).toString(36);
}
