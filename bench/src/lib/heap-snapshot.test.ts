import { describe, expect, it } from 'vitest';
import { growth, type HeapSnapshotJson, summarize } from './heap-snapshot.js';

// A hand-made snapshot in V8's layout: node_fields per node, names as indexes into strings.
function snap(nodes: Array<[type: number, name: string, size: number]>): HeapSnapshotJson {
  const strings: string[] = [];
  const at = (s: string) => (strings.includes(s) ? strings.indexOf(s) : strings.push(s) - 1);
  return {
    snapshot: {
      meta: {
        node_fields: ['type', 'name', 'id', 'self_size', 'edge_count'],
        node_types: [['hidden', 'array', 'string', 'object', 'code', 'closure']],
      },
    },
    nodes: nodes.flatMap(([type, name, size], i) => [type, at(name), i + 1, size, 0]),
    strings,
  };
}

describe('heap snapshot summary', () => {
  it('keys objects by constructor, closures by function, the rest by node type', () => {
    const s = summarize(
      snap([
        [3, 'Timeout', 80],
        [3, 'Timeout', 80],
        [5, 'onTimeout', 32],
        [2, 'a string', 24],
        [2, 'another', 40],
      ]),
    );
    expect(Object.fromEntries(s)).toEqual({
      'object Timeout': { count: 2, bytes: 160 },
      'closure onTimeout': { count: 1, bytes: 32 },
      '(string)': { count: 2, bytes: 64 },
    });
  });

  it('orders kinds by bytes grown, new kinds included, shrinking ones last', () => {
    const before = summarize(
      snap([
        [3, 'Timeout', 80],
        [4, 'code', 1000],
        [1, 'arr', 500],
      ]),
    );
    const after = summarize(
      snap([
        [3, 'Timeout', 80],
        [3, 'Timeout', 80],
        [4, 'code', 1500],
        [3, 'Client', 200],
        [1, 'arr', 100],
      ]),
    );
    const g = growth(before, after);
    expect(g.map((x) => x.kind)).toEqual(['(code)', 'object Client', 'object Timeout', '(array)']);
    expect(g[2]).toEqual({
      kind: 'object Timeout',
      countBefore: 1,
      countAfter: 2,
      bytesBefore: 80,
      bytesAfter: 160,
    });
  });
});
