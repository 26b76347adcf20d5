// The backends/ stage (stage.ts) between discovery and its consumers: the two sources' sets
// merged into one registry, each change handed on as one diff, a backend that left reported
// with the state it left from, every service's hold told its backend count, and a stopping
// container drained (and lifted when it starts again). The consumers are recorders; the
// services are a stand-in that diffs by id. The real balancer runs the same stage in
// test/docker-stop-drain.test.ts, test/address-change.test.ts and test/routes.test.ts.
import type { BackendState, Logger } from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import type { BackendTransition } from '../balancing/balancer-core.js';
import type { BackendSet, BackendSpec } from '../model/backend-spec.js';
import type { UpstreamPools } from '../proxy/upstream-pools.js';
import type { ResourceSource } from '../resources/resource-sample.js';
import { BackendStage, type StageServices } from './stage.js';

const spec = (id: string, over: Partial<BackendSpec> = {}): BackendSpec => ({
  id,
  url: `http://10.0.0.1:${id.length + 3000}`,
  name: `${id}-name`,
  service: 'web',
  source: 'docker',
  sticky: { kind: 'none' },
  ...over,
});

class Services implements StageServices {
  readonly specs = new Map<string, BackendSpec>();
  readonly state = new Map<string, BackendState>();
  readonly drains: Array<[string, boolean, string | undefined]> = [];
  readonly holdCounts = new Map<string, number[]>();
  setBackends(set: BackendSet) {
    const ids = new Set(set.map((s) => s.id));
    const added = set.filter((s) => !this.specs.has(s.id)).map((s) => s.id);
    const removed = [...this.specs.keys()].filter((id) => !ids.has(id));
    const changed = set
      .filter((s) => this.specs.has(s.id) && JSON.stringify(this.specs.get(s.id)) !== JSON.stringify(s))
      .map((s) => s.id);
    this.specs.clear();
    for (const s of set) this.specs.set(s.id, s);
    return { added, removed, changed };
  }
  runtime() {
    return [...this.specs.keys()].map((id) => ({ spec: { id }, state: this.state.get(id) ?? 'healthy' }));
  }
  setDraining(id: string, draining: boolean, _now: number, why?: string) {
    this.drains.push([id, draining, why]);
    return true;
  }
  units() {
    return ['web', 'api'].map((key) => ({
      key,
      hold: {
        setBackends: (n: number) => {
          const list = this.holdCounts.get(key) ?? [];
          list.push(n);
          this.holdCounts.set(key, list);
        },
      },
    }));
  }
  backendCount(key: string) {
    return [...this.specs.values()].filter((s) => s.service === key).length;
  }
}

function harness() {
  const services = new Services();
  const transitions: BackendTransition[] = [];
  const closed: string[] = [];
  const forgotten: string[] = [];
  const probed: string[][] = [];
  const sets: string[][] = [];
  const stage = new BackendStage({
    services,
    pools: {
      retarget: () => true,
      close: async (id: string) => {
        closed.push(id);
      },
    } as unknown as UpstreamPools,
    prober: { update: (set: BackendSet) => probed.push(set.map((s) => s.id)) },
    resources: { update: () => undefined } as unknown as ResourceSource,
    logger: { info: () => undefined } as unknown as Logger,
    transitions: { record: (t) => transitions.push(t) },
    onSet: (set) => sets.push(set.map((s) => s.id)),
    onRemoved: (id) => forgotten.push(id),
    now: () => 1000,
  });
  return { stage, services, transitions, closed, forgotten, probed, sets };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('BackendStage', () => {
  it('merges discovery and the static list by id (discovery wins a tie), one registry to every consumer', () => {
    const h = harness();
    h.stage.publishDiscovered([spec('a'), spec('b')]);
    h.stage.publishStatic([
      spec('b', { source: 'static', url: 'http://127.0.0.1:1' }),
      spec('s', { source: 'static' }),
    ]);
    expect(h.sets.at(-1)).toEqual(['a', 'b', 's']);
    expect(h.probed.at(-1)).toEqual(['a', 'b', 's']);
    expect(h.stage.spec('b')?.source).toBe('docker');
    expect(h.stage.spec('s')?.source).toBe('static');
    // a new discovered set keeps the static ones
    h.stage.publishDiscovered([spec('a')]);
    expect([...h.services.specs.keys()]).toEqual(['a', 'b', 's']);
    // discovery let go of the id: the static b is in force now
    expect(h.stage.spec('b')?.source).toBe('static');
  });

  it('a backend that leaves: a removed transition from the state it had, its pool closed, then forgotten', async () => {
    const h = harness();
    h.stage.publishDiscovered([spec('a'), spec('b')]);
    h.services.state.set('b', 'draining');
    h.stage.publishDiscovered([spec('a')]);
    expect(h.transitions).toEqual([
      {
        id: 'b',
        name: 'b-name',
        from: 'draining',
        to: 'removed',
        code: 'left-discovery',
        reason: 'no longer published by docker discovery',
        at: 1000,
      },
    ]);
    expect(h.closed).toEqual(['b']);
    await flush();
    expect(h.forgotten).toEqual(['b']);
  });

  it("every service's hold learns its backend count on every set", () => {
    const h = harness();
    h.stage.publishDiscovered([spec('a'), spec('b', { service: 'api' })]);
    h.stage.publishDiscovered([spec('b', { service: 'api' })]);
    expect(h.services.holdCounts.get('web')).toEqual([1, 0]);
    expect(h.services.holdCounts.get('api')).toEqual([1, 1]);
  });

  it('a stopping container is drained once, lifted when it runs again; an unknown container changes nothing', () => {
    const h = harness();
    h.stage.publishDiscovered([spec('a', { containerId: 'c-a' }), spec('b', { containerId: 'c-b' })]);
    h.stage.containerStopping('c-a', true, 'docker stop: SIGTERM');
    h.stage.containerStopping('c-a', true, 'kill: SIGKILL');
    h.stage.containerStopping('c-zz', true, 'docker stop: SIGTERM');
    // running again without having been drained: nothing to lift
    h.stage.containerStopping('c-b', false, 'started');
    h.stage.containerStopping('c-a', false, 'started');
    expect(h.services.drains).toEqual([
      ['a', true, 'docker stop: SIGTERM'],
      ['a', false, 'container a-name started again: back in rotation'],
    ]);
  });

  it('a drained-for-stop backend that left and came back is drained again at its next stop', () => {
    const h = harness();
    h.stage.publishDiscovered([spec('a', { containerId: 'c-a' })]);
    h.stage.containerStopping('c-a', true, 'stop 1');
    h.stage.publishDiscovered([]);
    h.stage.publishDiscovered([spec('a', { containerId: 'c-a' })]);
    h.stage.containerStopping('c-a', true, 'stop 2');
    expect(h.services.drains.map(([, , why]) => why)).toEqual(['stop 1', 'stop 2']);
  });
});
