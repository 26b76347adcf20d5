import { describe, expect, it } from 'vitest';
import { type NodeBusy, nodeBusyFromVector, withNodeLoad } from './node-load-source.js';

const NOW = 1_000_000;
const sample = (cpu: number | null) => ({ id: 'b1', cpu, mem: 0.2, at: NOW - 100 });

describe('withNodeLoad', () => {
  it.each<[string, number | null, NodeBusy | undefined, number | null]>([
    ['no node figure: own CPU', 0.3, undefined, 0.3],
    ['node busier than the task: the node', 0.3, { busy: 0.9, at: NOW - 500 }, 0.9],
    ['task busier than its node: its own', 0.95, { busy: 0.4, at: NOW - 500 }, 0.95],
    ['own CPU unknown: the node', null, { busy: 0.7, at: NOW }, 0.7],
    ['node figure stale: own CPU', 0.3, { busy: 0.9, at: NOW - 5_001 }, 0.3],
    ['node figure above 1 (rate jitter): clamped', 0.3, { busy: 1.04, at: NOW }, 1],
    ['node figure NaN: own CPU', 0.3, { busy: Number.NaN, at: NOW }, 0.3],
  ])('%s', (_, own, node, cpu) => {
    const out = withNodeLoad(sample(own), node, NOW, 5_000);
    expect(out.cpu).toBe(cpu);
    // memory and the time of the sample are the backend's own
    expect(out.mem).toBe(0.2);
    expect(out.at).toBe(NOW - 100);
  });
});

describe('nodeBusyFromVector', () => {
  it('one figure per node label, the highest when a node repeats; unlabelled and NaN dropped', () => {
    const map = nodeBusyFromVector(
      [
        { metric: { node: 'host-a' }, value: [0, '0.25'] },
        { metric: { node: 'host-b' }, value: [0, '0.5'] },
        { metric: { node: 'host-b' }, value: [0, '0.75'] },
        { metric: {}, value: [0, '0.9'] },
        { metric: { node: 'host-c' }, value: [0, 'NaN'] },
      ],
      NOW,
    );
    expect(Object.fromEntries(map)).toEqual({
      'host-a': { busy: 0.25, at: NOW },
      'host-b': { busy: 0.75, at: NOW },
    });
  });
});
