import { describe, expect, it } from 'vitest';
import { type SwarmTaskPlace, swarmLeavingTasks } from './swarm-leaving.js';

const t = (slot: number, node: string | undefined, running = true): SwarmTaskPlace => ({
  id: `t${slot}`,
  slot,
  node,
  running,
});

describe('swarmLeavingTasks: the tasks SwarmKit removes on a scale-down', () => {
  it.each<[string, SwarmTaskPlace[], number, string[]]>([
    ['one node: the highest slots', [t(1, 'a'), t(2, 'a'), t(3, 'a')], 1, ['t2', 't3']],
    ['order of the input does not matter', [t(3, 'a'), t(1, 'a'), t(2, 'a')], 2, ['t3']],
    // node a holds 3 copies, node b 1: a's third and second copies go first
    ['the busiest node first', [t(1, 'a'), t(2, 'b'), t(3, 'a'), t(4, 'a')], 2, ['t3', 't4']],
    // two and two: each node's 2nd copy (slots 3 and 4) has index 2; the higher slot goes
    [
      'balanced nodes: the higher copy, then the higher slot',
      [t(1, 'a'), t(2, 'b'), t(3, 'a'), t(4, 'b')],
      3,
      ['t4'],
    ],
    // a task that is not running goes before a running one of the same node
    ['not running first', [t(1, 'a'), t(2, 'a', false), t(3, 'a')], 2, ['t2']],
    // a task with no node yet sorts after every placed one
    ['unassigned last', [t(1, 'a'), t(2, undefined, false), t(3, 'b')], 2, ['t2']],
    ['scale up or equal: none', [t(1, 'a'), t(2, 'a')], 2, []],
    ['to zero: all', [t(1, 'a'), t(2, 'b')], 0, ['t1', 't2']],
  ])('%s', (_what, tasks, desired, leaving) => {
    expect(swarmLeavingTasks(tasks, desired).map((x) => x.id)).toEqual(leaving);
  });
});
