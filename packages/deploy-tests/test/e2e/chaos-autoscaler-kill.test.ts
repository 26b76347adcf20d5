// Chaos: the autoscaler killed with SIGKILL in the middle of a scale-out, on the real engine.
// It talks to the engine through a socket of the test's (the only fake here, for the fault): the
// moment it asks the engine to start its second new replica, the test SIGKILLs it and drops that
// request, so the container exists, created and never started, as a kill between the two calls
// leaves it. A new autoscaler on the engine's own socket must then adopt what the first made:
// both replicas running, named <service>-1 and -2, no container left behind in "created", and no
// third one created in place of the stranded one.
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoscalerStatusSchema, LB_LABELS, OWNER_LABELS, OWNER_VALUE } from '@headroom/shared';
import {
  freePort,
  hostDocker,
  lbLabels,
  removeLabelled,
  removeRun,
  requireDocker,
  runLabelled,
  type ServiceProcess,
  startAutoscaler,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const IMAGE = 'headroom/backend:latest';
const run = testRunId('chaos-kill');
const SERVICE = `${run}-web`;
const socket = join(tmpdir(), `hr-chaos-kill-${run}.sock`);

let first: ServiceProcess | undefined;
let second: ServiceProcess | undefined;
let interceptor: Server | undefined;
const open = new Set<Socket>();
const starts: string[] = [];

const docker = hostDocker;
/** Every container of the service: name and Docker state, sorted by name. */
const containers = () =>
  docker('ps', '-a', '--filter', `label=${LB_LABELS.service}=${SERVICE}`, '--format', '{{.Names}} {{.State}}')
    .split('\n')
    .filter(Boolean)
    .sort();
const owned = () =>
  docker(
    'ps',
    '-a',
    '--filter',
    `label=${OWNER_LABELS.managedBy}=${OWNER_VALUE}`,
    '--filter',
    `label=${OWNER_LABELS.service}=${SERVICE}`,
    '--format',
    '{{.Names}} {{.State}}',
  )
    .split('\n')
    .filter(Boolean)
    .sort();

/**
 * Forwards to the real engine socket; on the second `POST …/containers/<id>/start` it SIGKILLs
 * the autoscaler and drops the request (the engine never sees it).
 */
async function startInterceptor(onSecondStart: () => void): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect('/var/run/docker.sock');
    open.add(client);
    open.add(upstream);
    client.on('data', (chunk: Buffer) => {
      const head = chunk.subarray(0, 200).toString('latin1');
      const m = /^POST \S*\/containers\/([0-9a-f]+)\/start/.exec(head);
      if (m) {
        starts.push(m[1] as string);
        if (starts.length === 2) {
          onSecondStart();
          client.destroy();
          upstream.destroy();
          return;
        }
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return server;
}

async function autoscaler(dockerSocket: string): Promise<{ proc: ServiceProcess; url: string }> {
  const closed = await freePort();
  const proc = await startAutoscaler(
    {
      LOG_LEVEL: 'info',
      RUNTIME: 'docker',
      SERVICE,
      DOCKER_SOCKET: dockerSocket,
      // no metrics here: the scale-out is MIN_REPLICAS' (TooFewReplicas), which holds without data
      PROMETHEUS_URL: `http://127.0.0.1:${closed}`,
      MIN_REPLICAS: '3',
      MAX_REPLICAS: '4',
      INTERVAL_MS: '500',
      CPU_OVERCOMMIT: '16',
      STOP_GRACE_SECONDS: '1',
    },
    // the first one may be killed before its admin API answers
    { waitReady: false },
  );
  return { proc, url: proc.admin };
}

beforeAll(() => {
  requireDocker();
  hostDocker('image', 'inspect', IMAGE);
  // the template the autoscaler copies (compose's or a user's own container: not owned)
  runLabelled({
    run,
    name: `${SERVICE}-tmpl`,
    image: IMAGE,
    labels: lbLabels(SERVICE),
    flags: ['--cpus', '0.1'],
  });
});

afterAll(async () => {
  first?.child.kill('SIGKILL');
  await second?.stop();
  for (const s of open) s.destroy();
  await new Promise((r) => (interceptor ? interceptor.close(r) : r(undefined)));
  rmSync(socket, { force: true });
  removeRun(run);
  removeLabelled(OWNER_LABELS.service, SERVICE);
});

describe('chaos: the autoscaler SIGKILLed in the middle of a scale-out', () => {
  it('after a restart adopts the replica it had created but not started: no orphan, no duplicate', async () => {
    const a = await autoscaler(socket);
    first = a.proc;
    const killed = new Promise<void>((resolve) => {
      void startInterceptor(() => {
        a.proc.child.kill('SIGKILL');
        resolve();
      }).then((s) => {
        interceptor = s;
      });
    });
    await waitFor(() => interceptor !== undefined, { timeoutMs: 5_000 });
    await Promise.race([
      killed,
      a.proc.exited.then(() => {
        throw new Error(`the autoscaler exited before the second start: ${a.proc.output().slice(-1500)}`);
      }),
    ]);
    await a.proc.exited;
    expect(a.proc.child.signalCode).toBe('SIGKILL');
    // what the kill left: the first replica running, the second created and never started
    expect(owned()).toEqual([`${SERVICE}-1 running`, `${SERVICE}-2 created`]);

    const b = await autoscaler('/var/run/docker.sock');
    second = b.proc;
    const settled = await waitFor(
      async () => {
        if (b.proc.child.exitCode !== null) throw new Error(`autoscaler exited: ${b.proc.output()}`);
        const s = autoscalerStatusSchema.parse(await (await fetch(`${b.url}/api/status`)).json());
        return s.ready === 3 ? s : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 250, message: `three ready replicas\n${containers().join('\n')}` },
    );
    expect(settled).toMatchObject({ current: 3, desired: 3 });
    // a few more ticks: nothing more is created or left behind
    const at = Date.now();
    await waitFor(
      async () => {
        const s = autoscalerStatusSchema.parse(await (await fetch(`${b.url}/api/status`)).json());
        return s.loop?.lastTickAt !== null && Date.parse(s.loop?.lastTickAt ?? '0') > at + 2_000;
      },
      { timeoutMs: 20_000 },
    );
    expect(owned()).toEqual([`${SERVICE}-1 running`, `${SERVICE}-2 running`]);
    expect(containers()).toEqual([`${SERVICE}-1 running`, `${SERVICE}-2 running`, `${SERVICE}-tmpl running`]);
  });
});
