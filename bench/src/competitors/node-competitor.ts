// A competitor that is a Node script of ours (reply-from, the minimal proxy) in its own
// process, in front of one backend.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchCert } from '../lib/bench-cert.js';
import { freePort, probe, stopProcess, waitFor } from '../lib/procs.js';
import type { Competitor } from './haproxy.js';

export async function startNodeCompetitor(
  nodeArgs: string[],
  backend: string,
  /** Serve https with this certificate (the script reads TLS_CERT and TLS_KEY). */
  tls?: BenchCert,
): Promise<Competitor> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, nodeArgs, {
    env: {
      ...process.env,
      PORT: String(port),
      UPSTREAM: backend,
      ...(tls ? { TLS_CERT: tls.cert, TLS_KEY: tls.key } : {}),
    },
    stdio: 'ignore',
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await waitFor(async () => (await probe(url)) === 200, { timeoutMs: 15_000 });
  return { url, pid: child.pid!, stop: () => stopProcess(child) };
}
