// Scale to zero on a real two-node Swarm (issue #25, item 3): two dockerd engines of the
// multi-engine harness joined as a manager and a worker; a replicated service with the
// autoscale.* and lb.idle.after labels; the real balancer as a container on the service's
// overlay network with Swarm discovery (testkit's Swarm harness, as swarm-drain.test.ts); the
// real autoscaler process with RUNTIME=swarm on the manager's socket, MIN_REPLICAS=0 and the
// balancer's admin API (no Prometheus: the balancer's own view). No LB_SERVICE: a second
// labelled service (on /api, autoscale.min=1) runs beside it and keeps its count and its
// traffic throughout, as several services from labels do. Steps, in order:
//   1. no request for the idle window: the service's spec goes to 0 replicas, every task goes,
//      and both the balancer (state sleeping) and the autoscaler (sleeping, with the reason of
//      its decision) say so;
//   2. the balancer restarted meanwhile knows the service sleeps from the Swarm spec alone
//      (each labelled service scanned on its own: the other one stays awake);
//   3. a request sent then is held (not a 503), the balancer asks the autoscaler to wake the
//      service, which sets the count back to 1; the request is answered 200 by the new task,
//      and the wake time is printed;
//   4. no orphan: exactly the one task Swarm runs for the service, and the balancer has it.
import { randomBytes } from 'node:crypto';
import {
  AUTOSCALE_LABELS,
  autoscalerStatusSchema,
  type BackendList,
  backendListSchema,
  decisionListSchema,
  LB_LABELS,
} from '@headroom/shared';
import {
  createSwarmService,
  freePort,
  heldRequests,
  type RunningAutoscaler,
  type SwarmHarness,
  startAutoscaler,
  startSwarmHarness,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SERVICE = 'hrsz-web';
/** A second labelled service (on /api) that never sleeps: it keeps its count and serves throughout. */
const OTHER = 'hrsz-api';
const NET = 'hrsz-net';
const TOKEN = randomBytes(24).toString('hex');
/** The idle window on the service's label: short, the test waits it out once. */
const IDLE_MS = 4000;
/** Long enough for a task to be scheduled, started and pass a health check on a busy 2-core machine. */
const HOLD_TIMEOUT_MS = 45_000;
const auth = { authorization: `Bearer ${TOKEN}` };
/** /health and every other path answered with the task's hostname (its container id). */
const APP = `
const http = require('http');
const os = require('os');
http.createServer((req, res) => res.end(os.hostname())).listen(3000, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

let harness: SwarmHarness | undefined;
let scaler: RunningAutoscaler | undefined;
let scalerAdmin = '';

const replicasSpec = (service = SERVICE) =>
  Number(harness?.manager.docker('service', 'inspect', '-f', '{{.Spec.Mode.Replicated.Replicas}}', service));
/** Tasks of the service Swarm means to run, as `name node state`. */
const runningTasks = () =>
  (
    harness?.manager.docker(
      'service',
      'ps',
      SERVICE,
      '--filter',
      'desired-state=running',
      '--format',
      '{{.Name}} {{.Node}} {{.CurrentState}}',
    ) ?? ''
  )
    .split('\n')
    .filter(Boolean);
/** Containers of the service on every node, whatever their state (an orphan would be one). */
const containersOnNodes = () =>
  (harness?.cluster.engines ?? []).flatMap((e) =>
    e
      .docker(
        'ps',
        '--filter',
        `label=com.docker.swarm.service.name=${SERVICE}`,
        '--filter',
        'status=running',
        '--format',
        '{{.Names}}',
      )
      .split('\n')
      .filter(Boolean),
  );

async function view(service = SERVICE): Promise<BackendList> {
  const res = await fetch(`${harness?.admin}/api/backends?service=${service}`, { headers: auth });
  return backendListSchema.parse(await res.json());
}

async function status() {
  const res = await fetch(`${scalerAdmin}/api/status`, { headers: auth });
  return autoscalerStatusSchema.parse(await res.json());
}

const heldTotal = (outcome: string) => heldRequests(harness?.admin ?? '', SERVICE, outcome, auth);

/** What a failing step shows: both services' logs, the autoscaler's last decisions, the balancer's view. */
async function diagnostics(): Promise<string> {
  const get = async (url: string) =>
    fetch(url, { headers: auth, signal: AbortSignal.timeout(5_000) })
      .then((r) => r.text())
      .catch((err: Error) => err.message);
  return (
    `\n--- balancer logs ---\n${harness?.balancerLogs(40) ?? ''}` +
    `\n--- autoscaler output ---\n${scaler?.output().slice(-4000) ?? ''}` +
    `\n--- autoscaler decisions ---\n${(await get(`${scalerAdmin}/api/decisions?limit=6`)).slice(0, 4000)}` +
    `\n--- balancer view ---\n${(await get(`${harness?.admin}/api/backends`)).slice(0, 3000)}`
  );
}

beforeAll(async () => {
  const scalerPort = await freePort();
  harness = await startSwarmHarness({
    nodes: 2,
    network: NET,
    balancerName: 'hrsz-lb',
    token: TOKEN,
    // no LB_SERVICE: every labelled service is balanced, each sleeps and wakes on its own
    balancerEnv: (cluster) => ({
      // the autoscaler runs on the host: the balancer reaches it at the bridge's gateway
      WAKE_URL: `http://${cluster.gateway}:${scalerPort}`,
      HOLD_TIMEOUT_MS: String(HOLD_TIMEOUT_MS),
      HEALTH_INTERVAL_MS: '500',
      SLOW_START_MS: '0',
      ADMIN_RATE_LIMIT: '1000000',
      LOG_LEVEL: 'info',
    }),
  });
  const app = (name: string, labels: Record<string, string>) =>
    createSwarmService(harness!.manager, {
      name,
      network: NET,
      replicas: 1,
      flags: ['--stop-grace-period', '2s'],
      labels: {
        [LB_LABELS.enable]: 'true',
        [LB_LABELS.service]: name,
        [LB_LABELS.port]: '3000',
        [AUTOSCALE_LABELS.enable]: 'true',
        [AUTOSCALE_LABELS.max]: '2',
        ...labels,
      },
      command: ['node', '-e', APP],
    });
  app(SERVICE, { [LB_LABELS.idleAfter]: String(IDLE_MS), [AUTOSCALE_LABELS.min]: '0' });
  app(OTHER, { [LB_LABELS.path]: '/api', [AUTOSCALE_LABELS.min]: '1' });
  scaler = await startAutoscaler(
    {
      RUNTIME: 'swarm',
      DOCKER_SOCKET: harness.manager.unixHost.replace(/^unix:\/\//, ''),
      MIN_REPLICAS: '0',
      SCALE_TO_ZERO_AFTER_MS: String(IDLE_MS),
      LB_ADMIN_URL: harness.admin,
      ADMIN_TOKEN: TOKEN,
      // with a token it may listen beyond loopback: the balancer's container calls it
      HOST: '0.0.0.0',
      INTERVAL_MS: '1000',
      LOG_LEVEL: 'info',
    },
    { adminPort: scalerPort, readyTimeoutMs: 20_000 },
  );
  scalerAdmin = `http://127.0.0.1:${scalerPort}`;
  await waitFor(
    async () =>
      (await view()).backends.some((b) => b.state === 'healthy') &&
      (await view(OTHER)).backends.some((b) => b.state === 'healthy'),
    { timeoutMs: 90_000, intervalMs: 500, message: 'both services have a healthy task at the balancer' },
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}${await diagnostics()}`);
  });
}, 300_000);

afterAll(async () => {
  await scaler?.stop();
  harness?.stop();
});

describe('Swarm scale to zero on a two-node Swarm', () => {
  it('idle: the service goes to 0 replicas; balancer and autoscaler report it asleep with a reason', async () => {
    // one request served, then none: the idle window starts from it
    const first = await fetch(`${harness?.proxy}/`, { signal: AbortSignal.timeout(10_000) });
    expect(first.status).toBe(200);
    await first.text();
    const t0 = Date.now();
    await waitFor(() => replicasSpec() === 0, {
      timeoutMs: IDLE_MS + 30_000,
      intervalMs: 250,
      message: 'the service at 0 replicas',
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}${await diagnostics()}`);
    });
    process.stdout.write(
      `swarm scale to zero: 0 replicas ${Date.now() - t0} ms after the last request (idle window ${IDLE_MS} ms)\n`,
    );
    await waitFor(() => runningTasks().length === 0 && containersOnNodes().length === 0, {
      timeoutMs: 30_000,
      intervalMs: 250,
      message: 'no task left on either node',
    });
    const v = await view();
    expect(v.service?.state).toBe('sleeping');
    expect(v.backends).toEqual([]);
    const st = await status();
    const svc = st.services?.find((s) => s.service === SERVICE);
    expect(svc?.sleeping, JSON.stringify(st)).toBe(true);
    const decisions = decisionListSchema.parse(
      await (await fetch(`${scalerAdmin}/api/decisions?limit=100`, { headers: auth })).json(),
    ).decisions;
    const sleep = decisions.find((d) => d.service === SERVICE && d.reason === 'IdleScaleToZero');
    expect(sleep, 'IdleScaleToZero in the decision log').toBeDefined();
    expect(sleep?.desired).toBe(0);
    // the other service was not put to sleep with it: its one task serves on /api
    expect(replicasSpec(OTHER)).toBe(1);
    const api = await fetch(`${harness?.proxy}/api/x`, { signal: AbortSignal.timeout(10_000) });
    expect(api.status).toBe(200);
    await api.text();
  });

  it('the balancer restarted while the service sleeps knows it sleeps from the Swarm spec alone', async () => {
    await harness?.restartBalancer();
    // each labelled service its own: web asleep (its spec at 0), the other awake with its task
    await waitFor(async () => (await view()).service?.state === 'sleeping', {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: 'the restarted balancer says the service sleeps',
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}${await diagnostics()}`);
    });
    expect((await view()).service?.idleAfterMs).toBe(IDLE_MS);
    await waitFor(async () => (await view(OTHER)).backends.some((b) => b.state === 'healthy'), {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: 'the other service healthy again at the restarted balancer',
    });
    expect((await view(OTHER)).service?.state).toBe('awake');
  });

  it('a request to the sleeping service is held, the autoscaler wakes it, the request gets 200; no orphan task', async () => {
    expect(replicasSpec()).toBe(0);
    const released = await heldTotal('released');
    const t0 = performance.now();
    const answer = fetch(`${harness?.proxy}/`, {
      signal: AbortSignal.timeout(HOLD_TIMEOUT_MS + 10_000),
    }).then(async (res) => ({
      status: res.status,
      body: await res.text(),
      ms: Math.round(performance.now() - t0),
    }));
    // held, not refused: the balancer counts it while the service wakes
    await waitFor(async () => ((await view()).service?.held ?? 0) >= 1, {
      timeoutMs: 10_000,
      intervalMs: 50,
      message: 'the request is held at the balancer',
    });
    const r = await answer.catch((err: Error) => ({ status: 0, body: err.message, ms: -1 }));
    process.stdout.write(
      `swarm wake: the held request answered ${r.status} after ${r.ms} ms (0 → ${replicasSpec()} replicas)\n`,
    );
    if (r.status !== 200) throw new Error(`held request: ${r.status} ${r.body}${await diagnostics()}`);
    expect(replicasSpec()).toBeGreaterThanOrEqual(1);
    expect(await heldTotal('released')).toBe(released + 1);
    const wake = decisionListSchema
      .parse(await (await fetch(`${scalerAdmin}/api/decisions?limit=100`, { headers: auth })).json())
      .decisions.find((d) => d.service === SERVICE && d.reason === 'WakeOnRequest' && d.current === 0);
    expect(wake, 'WakeOnRequest (0 → n) in the decision log').toBeDefined();
    // no orphan: the tasks Swarm runs are the count, each one container on its node, each at the balancer
    await waitFor(
      async () => {
        const tasks = runningTasks();
        return (
          tasks.length === replicasSpec() &&
          tasks.every((t) => t.includes(' Running ')) &&
          containersOnNodes().length === tasks.length &&
          (await view()).backends.length === tasks.length
        );
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'tasks, containers and backends agree' },
    );
    expect((await view()).service?.state).toBe('awake');
    // the answer came from one of the service's tasks (its hostname is the container's id)
    expect(containersOnNodes().length).toBeGreaterThanOrEqual(1);
    expect(r.body).toMatch(/^[0-9a-f]{12}$/);
  });
});
