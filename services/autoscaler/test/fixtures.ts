// Test fixtures: what the autoscaler's tests look at on the engine, an engine socket that can
// be cut, and balancer stand-ins (on the testkit's startFakeBalancer) that record drains and
// registrations and answer GET /api/backends as the tests set it.
import { rmSync } from 'node:fs';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { LB_LABELS } from '@headroom/shared';
import { backendView, startFakeBalancer, TEST_RUN_LABEL } from '@headroom/testkit';
import Docker from 'dockerode';

export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/** Marker on every container a test run creates (copied onto replicas through the template). */
export const TEST_LABEL = TEST_RUN_LABEL;

export async function serviceContainers(service: string) {
  return docker.listContainers({ all: true, filters: { label: [`${LB_LABELS.service}=${service}`] } });
}

export async function removeRun(run: string): Promise<void> {
  const cs = await docker.listContainers({ all: true, filters: { label: [`${TEST_LABEL}=${run}`] } });
  await Promise.all(
    cs.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

export interface DrainEvent {
  id: string;
  at: number;
  runningAtDrain: boolean;
}

/** Balancer stand-in: records drains; a drained backend reports 1 request in flight for a few polls. */
export async function startBalancerRecorder() {
  const drains: DrainEvent[] = [];
  const polls: { id: string; running: boolean }[] = [];
  const pollCount = new Map<string, number>();
  const isRunning = async (id: string) => {
    try {
      return (await docker.getContainer(id).inspect()).State.Running;
    } catch {
      return false;
    }
  };
  const fake = await startFakeBalancer(async (req) => {
    const drain = /^\/api\/backends\/([^/]+)\/drain$/.exec(req.url);
    if (req.method === 'POST' && drain) {
      const id = drain[1]!;
      drains.push({ id, at: Date.now(), runningAtDrain: await isRunning(id) });
      pollCount.set(id, 0);
      return { body: { id, state: 'draining' } };
    }
    if (req.method === 'GET' && req.url === '/api/backends') {
      const backends = [];
      for (const [id, n] of pollCount) {
        pollCount.set(id, n + 1);
        polls.push({ id, running: await isRunning(id) });
        if (n < 3) backends.push(backendView({ id, source: 'docker', state: 'draining', inFlight: 1 }));
      }
      return { body: { mode: 'round-robin', backends } };
    }
    return undefined;
  });
  return { url: fake.url, drains, polls, close: fake.close };
}

/**
 * A unix socket that forwards to the real engine's socket and can be cut: `down()` closes
 * it and every open connection (what an engine restart does to its clients), `up()` listens again.
 */
export async function startEngineProxy(path: string, target = '/var/run/docker.sock') {
  const open = new Set<Socket>();
  let server: NetServer | undefined;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server = createNetServer((client) => {
        const upstream = connect(target);
        open.add(client);
        open.add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          open.delete(client);
          open.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
      });
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  const down = async () => {
    const s = server;
    server = undefined;
    for (const c of open) c.destroy();
    open.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    rmSync(path, { force: true });
  };
  await up();
  return { up, down };
}

export interface RegisteredBackend {
  id: string;
  url: string;
  name: string;
  service: string;
  state: 'healthy' | 'draining';
  registeredAt: number;
  deletedAt?: number;
  drainedAt?: number;
}

/**
 * Balancer stand-in for static discovery: POST /api/backends registers, DELETE removes,
 * drain marks draining, GET lists them with the CPU the test sets. Records every call.
 */
/**
 * With `scaleToZero`, GET /api/backends carries `service` (state, held, lastRequestAt) and
 * PUT /api/service/state is answered and recorded, as the scale-to-zero balancer does.
 */
export async function startStaticBalancer(opts: { scaleToZero?: boolean } = {}) {
  const service = {
    state: 'awake' as 'awake' | 'waking' | 'sleeping',
    held: 0,
    lastRequestAt: null as number | null,
    since: new Date().toISOString(),
  };
  const serviceStates: { state: string; reason?: string; at: number }[] = [];
  const backends = new Map<string, RegisteredBackend>();
  const history: RegisteredBackend[] = [];
  let cpu = 0;
  let seq = 0;
  const view = (b: RegisteredBackend) =>
    backendView({
      ...{ id: b.id, url: b.url, name: b.name, service: b.service, state: b.state },
      ...{ source: 'static', cpu, mem: 0.1, score: 1 - cpu, metricsAgeMs: 100 },
    });
  const fake = await startFakeBalancer((req) => {
    const one = /^\/api\/backends\/([^/]+)(\/drain)?$/.exec(req.url);
    if (req.method === 'GET' && req.url === '/api/backends') {
      const sleepView = opts.scaleToZero
        ? { service: { name: 'default', idleAfterMs: null, ...service } }
        : {};
      return { body: { mode: 'round-robin', backends: [...backends.values()].map(view), ...sleepView } };
    }
    if (opts.scaleToZero && req.method === 'PUT' && req.url === '/api/service/state') {
      const b = JSON.parse(req.body) as { state: 'awake' | 'sleeping'; reason?: string };
      serviceStates.push({ ...b, at: Date.now() });
      service.state = b.state;
      service.since = new Date().toISOString();
      return { body: { name: 'default', idleAfterMs: null, ...service } };
    }
    if (req.method === 'POST' && req.url === '/api/backends') {
      const b = JSON.parse(req.body) as { url: string; name: string; service: string };
      const rec: RegisteredBackend = { id: `s${++seq}`, ...b, state: 'healthy', registeredAt: Date.now() };
      backends.set(rec.id, rec);
      history.push(rec);
      return { status: 201, body: view(rec) };
    }
    const b = one ? backends.get(one[1]!) : undefined;
    if (one && req.method === 'POST' && one[2]) {
      if (!b) return undefined;
      b.state = 'draining';
      b.drainedAt = Date.now();
      return { body: view(b) };
    }
    if (one && req.method === 'DELETE' && !one[2]) {
      if (b) b.deletedAt = Date.now();
      backends.delete(one[1]!);
      return { status: b ? 204 : 404 };
    }
    return undefined;
  });
  return {
    url: fake.url,
    backends,
    history,
    service,
    serviceStates,
    setCpu(v: number) {
      cpu = v;
    },
    close: fake.close,
  };
}

/** A tiny local backend for LOCAL_BACKEND_COMMAND: listens on $PORT, answers /health and / with its INSTANCE_ID. */
export const LOCAL_BACKEND_SCRIPT = `require('http').createServer((q, s) => s.end(JSON.stringify({ instance: process.env.INSTANCE_ID }))).listen(Number(process.env.PORT), '127.0.0.1'); process.on('SIGTERM', () => process.exit(0));`;
