// Processes the benchmarks start: the real balancer, a trivial backend, containers.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { freePort, repoRoot, type ServiceProcess, spawnService, waitFor } from '@headroom/testkit';
import { Agent, request } from 'undici';

export { freePort, repoRoot, waitFor };

export interface Lb {
  proc: ServiceProcess;
  pid: number;
  proxy: string;
  admin: string;
  stop(): Promise<void>;
}

export async function startHeadroom(env: Record<string, string>): Promise<Lb> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const proc = spawnService('load-balancer', {
    HOST: '127.0.0.1',
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    LOG_LEVEL: 'warn',
    SLOW_START_MS: '0',
    ...env,
  });
  const admin = `http://127.0.0.1:${adminPort}`;
  await waitFor(async () => (await fetch(`${admin}/healthz`)).ok, { timeoutMs: 20_000 });
  return {
    proc,
    pid: proc.child.pid!,
    proxy: `http://127.0.0.1:${port}`,
    admin,
    stop: async () => {
      await proc.stop();
    },
  };
}

/**
 * The status of one GET, http or https; a TLS proxy's self-signed bench certificate is
 * accepted (the readiness check of a competitor, not a test of its certificate).
 */
export async function probe(url: string): Promise<number> {
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    const res = await request(url, { dispatcher: agent });
    await res.body.dump();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

export async function setMode(admin: string, mode: string): Promise<void> {
  const res = await fetch(`${admin}/api/mode`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode }),
  });
  if (!res.ok) throw new Error(`mode ${mode}: ${res.status}`);
}

export async function healthyBackends(admin: string): Promise<number> {
  const body = (await (await fetch(`${admin}/api/backends`)).json()) as {
    backends: Array<{ state: string }>;
  };
  return body.backends.filter((b) => b.state === 'healthy').length;
}

/** A trivial HTTP backend in its own process: "ok" for every request. */
export async function startTrivialBackend(): Promise<{ url: string; pid: number; stop(): void }> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `require('node:http').createServer((q, s) => { s.setHeader('content-type', 'text/plain'); s.end('ok'); }).listen(${port}, '127.0.0.1')`,
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(url)).ok, { timeoutMs: 10_000 });
  return { url, pid: child.pid!, stop: () => child.kill('SIGKILL') };
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. NGINX needs
 * the SIGTERM: its master stops its worker, while a SIGKILLed master orphans the worker.
 */
export async function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function commandExists(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const BENCH_LABEL = 'headroom.bench';

/** Runs a stress-backend container with a CPU limit, published on a loopback port. */
export async function startBackendContainer(
  name: string,
  cpus: number,
  labels: Record<string, string>,
): Promise<{ name: string; url: string }> {
  const args = [
    'run',
    '-d',
    '--name',
    name,
    '--cpus',
    String(cpus),
    '--memory',
    '256m',
    '-p',
    '127.0.0.1::3000',
    // the image's HEALTHCHECK starts a Node process every 5 s inside the container's own CPU
    // quota (tens of ms of CPU against 50 ms per 100 ms period at --cpus 0.5): it throttles
    // requests for up to a period and would set every configuration's p99. The balancers
    // measured here run their own health checks.
    '--no-healthcheck',
    '--label',
    `${BENCH_LABEL}=1`,
  ];
  for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
  args.push('-e', `INSTANCE_ID=${name}`, '-e', 'LOG_LEVEL=warn', 'headroom/backend:latest');
  execFileSync('docker', args, { stdio: 'ignore' });
  matchPriority(name);
  const port = execFileSync('docker', ['port', name, '3000/tcp']).toString().trim().split(':').pop();
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/health`)).ok, { timeoutMs: 20_000 });
  return { name, url };
}

/**
 * A bench run started with a raised priority (`nice -n -10 pnpm bench`, as root, on a machine
 * other work shares) gives the containers it starts the same priority: they are not its
 * children, so they would otherwise compete with that other work at the default.
 */
function matchPriority(container: string): void {
  const own = os.getPriority();
  if (own >= 0) return;
  const pid = execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', container]).toString().trim();
  try {
    // Linux nice is per thread: every thread now, and threads started later inherit it
    for (const tid of readdirSync(`/proc/${pid}/task`)) os.setPriority(Number(tid), own);
  } catch {
    process.stdout.write(`  could not renice ${container} to ${own}\n`);
  }
}

/** The stress-backend image; built offline by deploy/build-images.sh when missing. */
export function ensureBackendImage(): void {
  try {
    execFileSync('docker', ['image', 'inspect', 'headroom/backend:latest'], { stdio: 'ignore' });
  } catch {
    process.stdout.write('  headroom/backend:latest missing: running deploy/build-images.sh\n');
    execFileSync('bash', [`${repoRoot}deploy/build-images.sh`], { stdio: 'inherit' });
  }
}

export function removeBenchContainers(): void {
  const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=${BENCH_LABEL}=1`])
    .toString()
    .split('\n')
    .filter(Boolean);
  if (ids.length > 0) execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
}
