// Starts the minimal Node proxy (minimal-proxy.mjs) in its own process.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, stopProcess, waitFor } from '../lib/procs.js';
import type { Competitor } from './haproxy.js';

const SERVER = fileURLToPath(new URL('./minimal-proxy.mjs', import.meta.url));

export async function startMinimalProxy(backend: string): Promise<Competitor> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: String(port), UPSTREAM: backend },
    stdio: 'ignore',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(url)).ok, { timeoutMs: 15_000 });
  return { url, pid: child.pid!, stop: () => stopProcess(child) };
}
