import { LB_LABELS } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import {
  CONVERGE_INTERVAL_MS,
  CONVERGE_MAX_MS,
  type EngineEvent,
  followUpDelay,
  isSwarmChange,
  SETTLE_INTERVAL_MS,
  SETTLE_MS,
  type SwarmTask,
  taskInRotation,
  tasksConverging,
  tasksToBackends,
} from './swarm-source.js';

const task = (over: Partial<SwarmTask> & { state?: string } = {}): SwarmTask => ({
  ID: 'task1xxxxxxxxxxxxxxxxxxx',
  ServiceID: 'svc1',
  NodeID: 'node-a',
  Slot: 1,
  DesiredState: 'running',
  Status: { State: over.state ?? 'running' },
  NetworksAttachments: [{ Network: { Spec: { Name: 'app' } }, Addresses: ['10.1.0.3/24'] }],
  ...over,
});

const nodes = new Map([
  ['node-a', { name: 'host-a', state: 'ready' }],
  ['node-b', { name: 'host-b', state: 'down' }],
  ['node-c', { name: 'host-c', state: 'disconnected' }],
]);

describe('taskInRotation', () => {
  it.each([
    ['running, meant to run, node ready', task(), true, ''],
    [
      'scale-in: desired shutdown while still running',
      task({ DesiredState: 'shutdown' }),
      false,
      'desired state shutdown',
    ],
    [
      'scale-in on newer engines: desired remove',
      task({ DesiredState: 'remove' }),
      false,
      'desired state remove',
    ],
    ['still starting', task({ state: 'starting' }), false, 'state starting'],
    ['failed', task({ state: 'failed' }), false, 'state failed'],
    ['on a node the manager reports down', task({ NodeID: 'node-b' }), false, 'node host-b is down'],
    // disconnected is a lost session, not a dead node: the health checks decide
    ['on a disconnected node', task({ NodeID: 'node-c' }), true, ''],
    ['on a node not listed', task({ NodeID: 'node-x' }), true, ''],
  ])('%s', (_, t, expected, why) => {
    const verdict = taskInRotation(t, nodes);
    expect(verdict.in).toBe(expected);
    if (!verdict.in) expect(verdict.why).toBe(why);
  });
});

describe('tasksToBackends: tasks carry their node', () => {
  const service = {
    ID: 'svc1',
    Spec: { Name: 'web', Labels: { [LB_LABELS.enable]: 'true', [LB_LABELS.port]: '3000' } },
  };
  const ctx = { network: undefined, ownNetworks: [], healthPath: '/health', service: undefined, nodes };
  it('a backend per task in rotation, with its node id and hostname', () => {
    const { specs } = tasksToBackends(
      service,
      [
        task(),
        task({ ID: 'task2xxxxxxxxxxxxxxxxxxx', Slot: 2, NodeID: 'node-b' }),
        task({ ID: 'task3xxxxxxxxxxxxxxxxxxx', Slot: 3, DesiredState: 'shutdown' }),
        task({ ID: 'task4xxxxxxxxxxxxxxxxxxx', Slot: 4, NodeID: 'node-c' }),
      ],
      ctx,
    );
    expect(specs.map((s) => [s.name, s.node, s.nodeName])).toEqual([
      ['web.1', 'node-a', 'host-a'],
      ['web.4', 'node-c', 'host-c'],
    ]);
  });
});

describe('isSwarmChange', () => {
  const taskAttrs = { Attributes: { 'com.docker.swarm.task.id': 't1' } };
  it.each<[string, EngineEvent, boolean]>([
    ['service update (scale in or out)', { Type: 'service', Action: 'update' }, true],
    ['service create', { Type: 'service', Action: 'create' }, true],
    ['service remove', { Type: 'service', Action: 'remove' }, true],
    ['node update (down, drain)', { Type: 'node', Action: 'update' }, true],
    ['a task container dies on the manager', { Type: 'container', Action: 'die', Actor: taskAttrs }, true],
    ['a task container starts', { Type: 'container', Action: 'start', Actor: taskAttrs }, true],
    [
      'a task container health status',
      { Type: 'container', Action: 'health_status: healthy', Actor: taskAttrs },
      true,
    ],
    [
      'a plain container dies (not a task)',
      { Type: 'container', Action: 'die', Actor: { Attributes: {} } },
      false,
    ],
    ['a task container exec', { Type: 'container', Action: 'exec_start: sh', Actor: taskAttrs }, false],
    ['a network event', { Type: 'network', Action: 'connect' }, false],
  ])('%s', (_, ev, expected) => {
    expect(isSwarmChange(ev)).toBe(expected);
  });
});

describe('tasksConverging', () => {
  const ids = new Set(['svc1']);
  it.each<[string, SwarmTask[], boolean]>([
    ['all running', [task()], false],
    ['one on its way in', [task(), task({ state: 'preparing' })], true],
    ['one told to stop, still running', [task({ DesiredState: 'shutdown' })], true],
    ['one told to stop, stopped', [task({ DesiredState: 'shutdown', state: 'shutdown' })], false],
    ['history: an old failed task', [task({ DesiredState: 'shutdown', state: 'failed' })], false],
    ['another service starting', [task({ ServiceID: 'other', state: 'pending' })], false],
  ])('%s', (_, tasks, expected) => {
    expect(tasksConverging(tasks, ids)).toBe(expected);
  });
});

describe('followUpDelay', () => {
  it.each<[string, number | undefined, boolean, number | undefined]>([
    ['no event yet: wait for events and the resync', undefined, true, undefined],
    ['just after an event', 0, false, SETTLE_INTERVAL_MS],
    ['inside the settle window', SETTLE_MS - 1, false, SETTLE_INTERVAL_MS],
    ['settled, nothing moving', SETTLE_MS, false, undefined],
    ['settled, tasks still starting', SETTLE_MS, true, CONVERGE_INTERVAL_MS],
    ['a task stuck pending: given up after CONVERGE_MAX_MS', CONVERGE_MAX_MS, true, undefined],
  ])('%s', (_, since, converging, expected) => {
    const now = 1_000_000;
    expect(followUpDelay(now, since === undefined ? undefined : now - since, converging)).toBe(expected);
  });
});
