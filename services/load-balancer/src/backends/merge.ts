// The backends/ stage: the sets discovery and the static list publish, merged by id (the
// discovered one wins a tie: a container registered by hand too stays what discovery says). Pure.
import type { BackendSet, BackendSpec } from '../model/backend-spec.js';

export function mergeSets(discovered: BackendSet, statics: BackendSet): Map<string, BackendSpec> {
  const merged = new Map<string, BackendSpec>();
  for (const spec of discovered) if (!merged.has(spec.id)) merged.set(spec.id, spec);
  for (const spec of statics) if (!merged.has(spec.id)) merged.set(spec.id, spec);
  return merged;
}
