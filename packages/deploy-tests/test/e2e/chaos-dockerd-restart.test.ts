// Chaos: dockerd restarted under load. An engine of the test's own (testkit startEngines: a
// dockerd in a network namespace; the machine's main engine is never touched) runs two stress
// backends with a restart policy, published on ephemeral ports; the real balancer discovers them
// over tcp:// (DOCKER_HOSTS) while paced load goes through it. The engine is restarted the way an
// operator or an upgrade does (SIGTERM: it stops the containers; started again: they come back,
// on whatever host ports the engine gives them). The engine's own restart cuts requests: its
// containers are stopped, the health checks take them out, and they are back only once they
// answer again and the next health check (HEALTH_INTERVAL_MS, 500 ms here) passes. Discovery has
// to resync (the events stream reconnects; the published ports are read again) for the balancer
// to list both, healthy, at the addresses the engine now publishes; from then on no request may
// fail. The time from the containers answering to the balancer serving them is printed.
import { backendListSchema } from '@headroom/shared';
import {
  type EngineCluster,
  type LabelledContainer,
  lbLabels,
  type RunningBalancer,
  runLabelled,
  startBalancer,
  startEngines,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const IMAGE = 'headroom/backend:latest';
const run = testRunId('chaos-dockerd');
const SERVICE = `${run}-web`;
let cluster: EngineCluster | undefined;
let lb: RunningBalancer | undefined;
const backends: LabelledContainer[] = [];

interface Sample {
  at: number;
  ok: boolean;
  why?: string;
}

/** Paced load: `n` workers, one request every `everyMs` each; every outcome kept with its start time. */
function paced(n: number, everyMs: number) {
  let on = true;
  const samples: Sample[] = [];
  const worker = async () => {
    while (on) {
      const at = Date.now();
      try {
        const res = await fetch(`${lb?.proxy}/load?ms=2`, { signal: AbortSignal.timeout(10_000) });
        const body = await res.text();
        samples.push(
          res.ok ? { at, ok: true } : { at, ok: false, why: `${res.status} ${body.slice(0, 120)}` },
        );
      } catch (err) {
        samples.push({ at, ok: false, why: (err as Error).message });
      }
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - at))));
    }
  };
  const done = Promise.all(Array.from({ length: n }, worker));
  return {
    samples,
    stop: async () => {
      on = false;
      await done;
    },
  };
}

async function answersDirectly(engine: EngineCluster['engines'][number], c: LabelledContainer) {
  try {
    const res = await fetch(`http://${engine.address}:${c.hostPort()}/health`, {
      signal: AbortSignal.timeout(1_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

function backend(engine: EngineCluster['engines'][number], i: number): LabelledContainer {
  return runLabelled({
    run,
    name: `${SERVICE}-${i}`,
    docker: engine.docker,
    image: IMAGE,
    labels: lbLabels(SERVICE),
    env: { INSTANCE_ID: `${SERVICE}-${i}` },
    publish: ['3000'],
    flags: ['--restart', 'always', '--cpus', '0.25'],
  });
}

beforeAll(async () => {
  cluster = await startEngines({ count: 1, images: [IMAGE] });
  const engine = cluster.engines[0]!;
  for (const i of [1, 2]) backends.push(backend(engine, i));
  lb = await startBalancer({
    DISCOVERY: 'docker',
    DOCKER_HOSTS: engine.tcpHost,
    LB_SERVICE: SERVICE,
    HEALTH_INTERVAL_MS: '500',
    RESYNC_INTERVAL_MS: '60000',
    BALANCER_MODE: 'round-robin',
    LOG_LEVEL: 'info',
  });
  await waitFor(
    async () => {
      const l = backendListSchema.parse(await (await fetch(`${lb?.admin}/api/backends`)).json());
      return l.backends.filter((b) => b.state === 'healthy').length === 2;
    },
    { timeoutMs: 30_000, intervalMs: 250, message: 'two healthy backends' },
  );
}, 300_000);

afterAll(async () => {
  await lb?.stop();
  cluster?.stop();
});

describe('chaos: dockerd restarted under load', () => {
  it('discovery resyncs to the published ports, and no request fails once the balancer has them back', async () => {
    const engine = cluster!.engines[0]!;
    const portsBefore = backends.map((c) => c.hostPort());
    const load = paced(4, 50);
    let backAt = 0;
    try {
      await new Promise((r) => setTimeout(r, 2_000));
      const restartAt = Date.now();
      await engine.restart();
      const engineUpAt = Date.now();
      // the engine's own cut ends when both containers answer at their (new) published ports
      await waitFor(
        async () => (await Promise.all(backends.map((c) => answersDirectly(engine, c)))).every(Boolean),
        {
          timeoutMs: 60_000,
          intervalMs: 100,
          message: 'both containers answer again',
        },
      );
      const containersAt = Date.now();
      // the balancer's view: the same two backends, at the published ports, healthy
      const list = await waitFor(
        async () => {
          const l = backendListSchema.parse(await (await fetch(`${lb?.admin}/api/backends`)).json());
          return l.backends.filter((b) => b.state === 'healthy').length === 2 ? l : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50, message: `resynced\n${lb?.output().slice(-2000)}` },
      );
      backAt = Date.now();
      const portsAfter = backends.map((c) => c.hostPort());
      expect(list.backends.map((b) => Number(new URL(b.url).port)).sort()).toEqual([...portsAfter].sort());
      process.stdout.write(
        `  dockerd restart: ${engineUpAt - restartAt} ms down, containers answering ${containersAt - engineUpAt} ms later, served by the balancer ${backAt - containersAt} ms after that; ports ${portsBefore} -> ${portsAfter}\n`,
      );
      // the events stream is live again (not the periodic resync, 60 s here): a container started
      // now joins within seconds and takes traffic
      backends.push(backend(engine, 3));
      await waitFor(
        async () => {
          const l = backendListSchema.parse(await (await fetch(`${lb?.admin}/api/backends`)).json());
          return l.backends.filter((b) => b.state === 'healthy').length === 3;
        },
        { timeoutMs: 15_000, intervalMs: 100, message: 'a container started after the restart joins' },
      );
      // keep the load on a while after the return
      await new Promise((r) => setTimeout(r, 3_000));
    } finally {
      await load.stop();
    }
    const after = load.samples.filter((s) => s.at >= backAt);
    const failedAfter = after.filter((s) => !s.ok);
    expect(after.length).toBeGreaterThan(100);
    expect([...new Set(failedAfter.map((s) => `${s.why} (+${s.at - backAt} ms)`))].slice(0, 8)).toEqual([]);
    // the load really crossed the restart
    expect(load.samples.filter((s) => s.at < backAt).length).toBeGreaterThan(20);
  });
});
