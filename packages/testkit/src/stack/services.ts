// Starts a real Headroom service (its built dist/main.js) the way a user does: on free
// loopback ports, with the test's environment, waiting until it answers. Every test that
// needs a balancer, an autoscaler or a backend process starts it here.
import { type AutoscalerStatus, autoscalerStatusSchema, BALANCER_NODE_OPTIONS } from '@headroom/shared';
import { freePort } from '../free-port.js';
import { repoRoot, type ServiceProcess, startProcess, waitReady } from './process.js';

export type ServiceName = 'backend' | 'load-balancer' | 'autoscaler';

/** Spawns a service with `env` (LOG_LEVEL=warn unless given) and does not wait for it. */
export function spawnService(service: ServiceName, env: Record<string, string | undefined>): ServiceProcess {
  // the balancer runs with the heap settings its image has, unless the caller says otherwise
  const nodeOptions =
    service === 'load-balancer' && env.NODE_OPTIONS === undefined
      ? { NODE_OPTIONS: [process.env.NODE_OPTIONS, BALANCER_NODE_OPTIONS].filter(Boolean).join(' ') }
      : {};
  return startProcess({
    command: process.execPath,
    args: [`${repoRoot}services/${service}/dist/main.js`],
    env: { LOG_LEVEL: 'warn', ...nodeOptions, ...env },
    name: service,
  });
}

/** Runs a service expected to refuse its configuration: resolves with its exit code and output. */
export async function runUntilExit(
  service: ServiceName,
  env: Record<string, string | undefined>,
  timeoutMs = 15_000,
): Promise<{ code: number | null; output: string }> {
  const proc = spawnService(service, env);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  if (code === null) throw new Error(`${service} did not exit within ${timeoutMs} ms: ${proc.output()}`);
  return { code, output: proc.output() };
}

export interface StartOptions {
  /** Fixed ports (default: free ones). */
  port?: number;
  adminPort?: number;
  /** Wait for the admin /healthz (default true; false for a start that is expected to fail). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
}

export interface RunningBackend extends ServiceProcess {
  url: string;
  port: number;
  instance: string;
}

/** Starts the real stress backend on a free loopback port and waits for /health. */
export async function startBackend(
  opts: { instance?: string; env?: Record<string, string> } & Pick<StartOptions, 'port'> = {},
): Promise<RunningBackend> {
  const port = opts.port ?? (await freePort());
  const instance = opts.instance ?? `backend-${port}`;
  const proc = spawnService('backend', {
    PORT: String(port),
    HOST: '127.0.0.1',
    INSTANCE_ID: instance,
    ...opts.env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${url}/health`, `backend ${instance}`, 15_000);
  return { ...proc, url, port, instance };
}

export interface RunningBalancer extends ServiceProcess {
  /** http://127.0.0.1:PORT, the proxy. */
  proxy: string;
  port: number;
  /** http://127.0.0.1:ADMIN_PORT, the admin API. */
  admin: string;
  adminPort: number;
}

/**
 * The real load balancer on loopback (HOST, PORT, ADMIN_PORT set here; everything else from
 * `env`, the service's defaults otherwise), ready once its admin /healthz answers.
 */
export async function startBalancer(
  env: Record<string, string | undefined> = {},
  opts: StartOptions = {},
): Promise<RunningBalancer> {
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const adminPort = opts.adminPort ?? (await freePort());
    const proc = spawnService('load-balancer', {
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_PORT: String(adminPort),
      ...env,
    });
    const admin = `http://127.0.0.1:${adminPort}`;
    try {
      if (opts.waitReady ?? true)
        await waitReady(proc, `${admin}/healthz`, 'load-balancer', opts.readyTimeoutMs);
      return { ...proc, proxy: `http://127.0.0.1:${port}`, port, admin, adminPort };
    } catch (err) {
      // freePort() hands out a port that is free now; a test file running beside this one can
      // take it before the balancer listens (EADDRINUSE in the fresh-clone CI): pick again.
      // waitReady's message carries the balancer's output, where its listen error is.
      const raced = /EADDRINUSE/.test((err as Error).message);
      if (!raced || attempt >= 3 || opts.port !== undefined || opts.adminPort !== undefined) throw err;
      await proc.stop(1000);
    }
  }
}

export interface RunningAutoscaler extends ServiceProcess {
  /** http://127.0.0.1:ADMIN_PORT */
  admin: string;
  adminPort: number;
}

/** The real autoscaler on loopback (HOST, ADMIN_PORT set here), ready once /healthz answers. */
export async function startAutoscaler(
  env: Record<string, string | undefined>,
  opts: Omit<StartOptions, 'port'> = {},
): Promise<RunningAutoscaler> {
  const adminPort = opts.adminPort ?? (await freePort());
  const proc = spawnService('autoscaler', { HOST: '127.0.0.1', ADMIN_PORT: String(adminPort), ...env });
  const admin = `http://127.0.0.1:${adminPort}`;
  if (opts.waitReady ?? true) await waitReady(proc, `${admin}/healthz`, 'autoscaler', opts.readyTimeoutMs);
  return { ...proc, admin, adminPort };
}

/** An autoscaler's GET /api/status, checked against the contract's schema. */
export async function autoscalerStatus(admin: string): Promise<AutoscalerStatus> {
  return autoscalerStatusSchema.parse(await (await fetch(`${admin}/api/status`)).json());
}
