// Starts a real Headroom service (its built dist/main.js) as a child process, the way a
// user does, and stops it. Output is kept so a failing test can show it.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BALANCER_NODE_OPTIONS } from '@headroom/shared';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServiceProcess {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

export function spawnService(
  service: 'backend' | 'load-balancer' | 'autoscaler',
  env: Record<string, string>,
): ServiceProcess {
  // the balancer runs with the heap settings its image has, unless the caller says otherwise
  const nodeOptions =
    service === 'load-balancer' && env.NODE_OPTIONS === undefined
      ? { NODE_OPTIONS: [process.env.NODE_OPTIONS, BALANCER_NODE_OPTIONS].filter(Boolean).join(' ') }
      : {};
  const child = spawn(process.execPath, [`${repoRoot}services/${service}/dist/main.js`], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...nodeOptions, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface RunningBackend extends ServiceProcess {
  url: string;
  port: number;
  instance: string;
}

/** Starts the real stress backend on a free loopback port and waits for /health. */
export async function startBackend(
  opts: { instance?: string; env?: Record<string, string> } = {},
): Promise<RunningBackend> {
  const port = await freePort();
  const instance = opts.instance ?? `backend-${port}`;
  const proc = spawnService('backend', {
    PORT: String(port),
    HOST: '127.0.0.1',
    INSTANCE_ID: instance,
    ...opts.env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`backend exited: ${proc.output()}`);
      const res = await fetch(`${url}/health`);
      return res.ok;
    },
    { timeoutMs: 15_000, message: `backend on ${url}` },
  );
  return { ...proc, url, port, instance };
}
