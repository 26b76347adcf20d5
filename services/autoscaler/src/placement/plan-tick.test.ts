// Placement across services in one tick (issue #25): every service's plan books on one ledger,
// so two services scaling out together never overcommit a host between them, and the booking of
// a replica that did not start is rolled back for the services planned after it.
import { describe, expect, it } from 'vitest';
import type { ReplicaRecord } from '../model/replica.js';
import type { ReplicaTemplate } from '../model/replica-template.js';
import type { HostState } from './host-state.js';
import { planService, rollBack } from './plan-tick.js';

const GiB = 1024 ** 3;
const host = (id: string, cpuBooked: number): HostState => ({
  id,
  reachable: true,
  cpuCapacity: 4,
  memoryCapacity: 8 * GiB,
  cpuBooked,
  memoryBooked: 0,
});
const running = (service: string, n: number): ReplicaRecord => ({
  id: `${service}${n}`,
  name: `${service}-${n}`,
  index: n,
  owned: true,
  state: 'running',
  host: 'h1',
});
const template = { image: 'app', nanoCpus: 500_000_000, memory: 0 } as ReplicaTemplate;

function plan(service: string, desired: number, hosts: readonly HostState[], cpu = 0.5) {
  return planService({
    service,
    runtime: 'docker',
    intent: { kind: 'scale', desired },
    why: 'test',
    replicas: [running(service, 1)],
    template,
    request: { cpu, memory: 0 },
    hosts,
    settings: { cpuOvercommit: 1, memoryReserve: 0, diskReserve: 0 },
    deaths: [],
    now: 0,
    keepOneOnSleep: false,
    dryRun: false,
  });
}

const creates = (p: ReturnType<typeof plan>) =>
  p.plan.steps.filter((s) => s.do === 'create').map((s) => (s.do === 'create' ? s.host : ''));

describe('one ledger for every service of a tick', () => {
  it.each<[string, number, number, string[], string[], string | undefined]>([
    // [case, room on h1 (cores), each wants +n, A's hosts, B's hosts, B's shortfall]
    ['room for both', 4, 2, ['h1', 'h1'], ['h1', 'h1'], undefined],
    [
      'room for three: B gets what A left, never a fourth',
      1.5,
      2,
      ['h1', 'h1'],
      ['h1'],
      'HostCapacityExhausted',
    ],
    ['room for two: A takes both, B none', 1, 2, ['h1', 'h1'], [], 'HostCapacityExhausted'],
  ])('%s', (_name, room, n, aHosts, bHosts, bShort) => {
    const start = [host('h1', 4 - room)];
    const a = plan('a', 1 + n, start);
    const b = plan('b', 1 + n, a.hosts);
    expect(creates(a)).toEqual(aHosts);
    expect(creates(b)).toEqual(bHosts);
    expect(b.plan.shortfall?.reason).toBe(bShort);
    // never overcommitted between them
    expect(b.hosts[0]!.cpuBooked).toBeLessThanOrEqual(4);
    expect(b.hosts[0]!.cpuBooked).toBe(4 - room + 0.5 * (aHosts.length + bHosts.length));
  });

  it('a start that fails gives its booking back: the next service can use the room', () => {
    const start = [host('h1', 3)]; // room for two
    const a = plan('a', 3, start);
    expect(creates(a)).toEqual(['h1', 'h1']);
    // without the rollback B would find no room
    expect(creates(plan('b', 2, a.hosts))).toEqual([]);
    // A's second create failed: act reports it, the ledger takes the booking back
    const after = rollBack(a.hosts, ['h1'], { cpu: 0.5, memory: 0 });
    expect(after[0]!.cpuBooked).toBe(3.5);
    const b = plan('b', 2, after);
    expect(creates(b)).toEqual(['h1']);
    expect(b.plan.shortfall).toBeUndefined();
  });

  it('spreads over hosts as it books: two services, two hosts', () => {
    const start = [host('h1', 3), host('h2', 3)];
    const a = plan('a', 3, start);
    const b = plan('b', 3, a.hosts);
    expect([...creates(a), ...creates(b)].sort()).toEqual(['h1', 'h1', 'h2', 'h2']);
    expect(b.hosts.map((h) => h.cpuBooked)).toEqual([4, 4]);
  });
});

describe('a replica created and never started (an autoscaler killed between create and start)', () => {
  const stranded = (owned: boolean): ReplicaRecord => ({
    ...running('s', 2),
    id: 's2',
    owned,
    state: 'starting',
    neverStarted: true,
  });
  const planWith = (replicas: ReplicaRecord[], dryRun = false) =>
    planService({
      service: 's',
      runtime: 'docker',
      intent: { kind: 'scale', desired: 2 },
      why: 'test',
      replicas,
      template,
      request: { cpu: 0.5, memory: 0 },
      hosts: [host('h1', 0)],
      settings: { cpuOvercommit: 1, memoryReserve: 0, diskReserve: 0 },
      deaths: [],
      now: 0,
      keepOneOnSleep: false,
      dryRun,
    }).plan.steps.map((s) => `${s.do}${'replica' in s ? ` ${s.replica.name}` : ''}`);

  it.each<[string, ReplicaRecord[], boolean, string[]]>([
    // it counts as the second replica: adopted (started), and nothing new is created
    ['owned: adopted, no create in its place', [running('s', 1), stranded(true)], false, ['adopt s-2']],
    ["someone else's: never touched", [running('s', 1), stranded(false)], false, []],
    ['dry run: nothing', [running('s', 1), stranded(true)], true, []],
  ])('%s', (_name, replicas, dryRun, steps) => {
    expect(planWith(replicas, dryRun)).toEqual(steps);
  });
});
