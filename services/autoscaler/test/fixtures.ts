// Test fixtures: replicas that serve HTTP and expose a settable utilization gauge, a real
// Prometheus that finds them through Docker service discovery (as the deploy config does),
// and a balancer stand-in that records drains and answers GET /api/backends.
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import {
  type AddressInfo,
  connect,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { type BackendView, LB_LABELS } from '@headroom/shared';
import { BASE_IMAGE } from '@headroom/testkit';
import Docker from 'dockerode';

export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

/** Marker on every container a test run creates (copied onto replicas through the template). */
export const TEST_LABEL = 'headroom-test.run';

/** A replica: /health, / (identity), /metrics with test_cpu_utilization, /set?v= to change it. */
export const REPLICA_SCRIPT = `
const http = require('http');
let v = Number(process.env.CPU ?? '0');
http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/set') { v = Number(u.searchParams.get('v')); res.end('ok'); return; }
  if (u.pathname === '/metrics') { res.setHeader('content-type', 'text/plain; version=0.0.4'); res.end('test_cpu_utilization ' + (Number.isNaN(v) ? 'NaN' : String(v)) + '\\n'); return; }
  if (u.pathname === '/health') { res.end('ok'); return; }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ instance: require('os').hostname() }));
}).listen(3000, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

export async function startTemplate(
  service: string,
  run: string,
  name: string,
  cpu: string,
): Promise<Docker.Container> {
  const c = await docker.createContainer({
    name,
    Image: BASE_IMAGE,
    Cmd: ['node', '-e', REPLICA_SCRIPT],
    Env: [`CPU=${cpu}`],
    Labels: {
      [LB_LABELS.enable]: 'true',
      [LB_LABELS.service]: service,
      [LB_LABELS.port]: '3000',
      [TEST_LABEL]: run,
    },
    HostConfig: { NanoCpus: 250_000_000, Memory: 64 * 1024 * 1024 },
  });
  await c.start();
  return c;
}

export async function containerIp(idOrName: string): Promise<string> {
  const info = await docker.getContainer(idOrName).inspect();
  const nets = Object.values(info.NetworkSettings.Networks);
  const ip = nets.find((n) => n.IPAddress)?.IPAddress;
  if (!ip) throw new Error(`${idOrName} has no IP yet`);
  return ip;
}

export async function setValue(idOrName: string, v: string): Promise<void> {
  const res = await fetch(`http://${await containerIp(idOrName)}:3000/set?v=${v}`);
  if (!res.ok) throw new Error(`set ${idOrName}: ${res.status}`);
}

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

export { dockerSdScrapeConfig } from '@headroom/testkit';

export interface DrainEvent {
  id: string;
  at: number;
  runningAtDrain: boolean;
}

/** Balancer stand-in: records drains; a drained backend reports 1 request in flight for a few polls. */
export async function startBalancerRecorder(): Promise<{
  url: string;
  drains: DrainEvent[];
  polls: { id: string; running: boolean }[];
  close(): Promise<void>;
}> {
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
  const server: Server = createServer((req, res) => {
    void (async () => {
      const drain = /^\/api\/backends\/([^/]+)\/drain$/.exec(req.url ?? '');
      if (req.method === 'POST' && drain) {
        const id = drain[1]!;
        drains.push({ id, at: Date.now(), runningAtDrain: await isRunning(id) });
        pollCount.set(id, 0);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id, state: 'draining' }));
        return;
      }
      if (req.method === 'GET' && req.url === '/api/backends') {
        const backends: BackendView[] = [];
        for (const [id, n] of pollCount) {
          pollCount.set(id, n + 1);
          polls.push({ id, running: await isRunning(id) });
          if (n >= 3) continue;
          backends.push({
            id,
            url: 'http://x',
            name: id,
            service: 'x',
            source: 'docker',
            state: 'draining',
            stateReason: null,
            inFlight: 1,
            requests: 0,
            errors: 0,
            rps: 0,
            cpu: null,
            mem: null,
            score: null,
            metricsAgeMs: null,
            latencyMs: null,
            weight: 1,
            effectiveWeight: 1,
            sticky: { kind: 'none' },
          });
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ mode: 'round-robin', backends }));
        return;
      }
      res.statusCode = 404;
      res.end('{}');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    drains,
    polls,
    close: () => new Promise((r) => server.close(() => r())),
  };
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
  const view = (b: RegisteredBackend): BackendView => ({
    id: b.id,
    url: b.url,
    name: b.name,
    service: b.service,
    source: 'static',
    state: b.state,
    stateReason: null,
    inFlight: 0,
    requests: 0,
    errors: 0,
    rps: 0,
    cpu,
    mem: 0.1,
    score: 1 - cpu,
    metricsAgeMs: 100,
    latencyMs: null,
    weight: 1,
    effectiveWeight: 1,
    sticky: { kind: 'none' },
  });
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      const url = req.url ?? '';
      const one = /^\/api\/backends\/([^/]+)(\/drain)?$/.exec(url);
      if (req.method === 'GET' && url === '/api/backends') {
        const list = [...backends.values()].map(view);
        res.end(
          JSON.stringify({
            mode: 'round-robin',
            backends: list,
            ...(opts.scaleToZero ? { service: { name: 'default', idleAfterMs: null, ...service } } : {}),
          }),
        );
      } else if (opts.scaleToZero && req.method === 'PUT' && url === '/api/service/state') {
        const b = JSON.parse(body) as { state: 'awake' | 'sleeping'; reason?: string };
        serviceStates.push({ ...b, at: Date.now() });
        service.state = b.state;
        service.since = new Date().toISOString();
        res.end(JSON.stringify({ name: 'default', idleAfterMs: null, ...service }));
      } else if (req.method === 'POST' && url === '/api/backends') {
        const b = JSON.parse(body) as { url: string; name: string; service: string };
        const rec: RegisteredBackend = { id: `s${++seq}`, ...b, state: 'healthy', registeredAt: Date.now() };
        backends.set(rec.id, rec);
        history.push(rec);
        res.statusCode = 201;
        res.end(JSON.stringify(view(rec)));
      } else if (one && req.method === 'POST' && one[2]) {
        const b = backends.get(one[1]!);
        if (!b) {
          res.statusCode = 404;
          res.end('{}');
          return;
        }
        b.state = 'draining';
        b.drainedAt = Date.now();
        res.end(JSON.stringify(view(b)));
      } else if (one && req.method === 'DELETE' && !one[2]) {
        const b = backends.get(one[1]!);
        if (b) b.deletedAt = Date.now();
        backends.delete(one[1]!);
        res.statusCode = b ? 204 : 404;
        res.end();
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    backends,
    history,
    service,
    serviceStates,
    setCpu(v: number) {
      cpu = v;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A tiny local backend for LOCAL_BACKEND_COMMAND: listens on $PORT, answers /health and / with its INSTANCE_ID. */
export const LOCAL_BACKEND_SCRIPT = `require('http').createServer((q, s) => s.end(JSON.stringify({ instance: process.env.INSTANCE_ID }))).listen(Number(process.env.PORT), '127.0.0.1'); process.on('SIGTERM', () => process.exit(0));`;
