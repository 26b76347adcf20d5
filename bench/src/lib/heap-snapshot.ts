// V8 heap snapshots (.heapsnapshot JSON, as v8.writeHeapSnapshot writes them) reduced to counts
// and bytes per kind of object, and two of them compared: what grew between two points of a
// run. An object is keyed by its constructor name, a closure by its function name, anything
// else (strings, arrays, code, hidden V8 internals…) by its node type alone.
export interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface KindTotals {
  count: number;
  bytes: number;
}

export function summarize(snap: HeapSnapshotJson): Map<string, KindTotals> {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, KindTotals>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!] ?? '?';
    const key =
      type === 'object' || type === 'closure'
        ? `${type} ${snap.strings[snap.nodes[i + nameAt]!]}`
        : `(${type})`;
    const t = out.get(key) ?? { count: 0, bytes: 0 };
    t.count++;
    t.bytes += snap.nodes[i + sizeAt]!;
    out.set(key, t);
  }
  return out;
}

export interface KindGrowth {
  kind: string;
  countBefore: number;
  countAfter: number;
  bytesBefore: number;
  bytesAfter: number;
}

/** Kinds whose bytes grew most from `before` to `after`, largest growth first. */
export function growth(
  before: Map<string, KindTotals>,
  after: Map<string, KindTotals>,
  top = 15,
): KindGrowth[] {
  const kinds = new Set([...before.keys(), ...after.keys()]);
  return [...kinds]
    .map((kind) => ({
      kind,
      countBefore: before.get(kind)?.count ?? 0,
      countAfter: after.get(kind)?.count ?? 0,
      bytesBefore: before.get(kind)?.bytes ?? 0,
      bytesAfter: after.get(kind)?.bytes ?? 0,
    }))
    .sort((a, b) => b.bytesAfter - b.bytesBefore - (a.bytesAfter - a.bytesBefore))
    .slice(0, top);
}
