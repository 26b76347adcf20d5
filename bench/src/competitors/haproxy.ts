// HAProxy from Debian's package, one thread, on a loopback port, config generated per run.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCert } from '../lib/bench-cert.js';
import { commandExists, freePort, probe, stopProcess, waitFor } from '../lib/procs.js';

export interface Competitor {
  url: string;
  /** The process to measure (NGINX: its master; the worker is a child). */
  pid: number;
  stop(): Promise<void>;
}

export async function startHaproxy(
  backends: string[],
  balance: 'roundrobin' | 'leastconn',
  /** Terminate TLS with this certificate (HAProxy's own OpenSSL, the one Node links here too). */
  tls?: BenchCert,
): Promise<Competitor | undefined> {
  if (!commandExists('haproxy')) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hr-haproxy-'));
  const servers = backends.map((u, i) => `  server s${i} ${new URL(u).host} maxconn 1000`).join('\n');
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    `global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}${tls ? ` ssl crt ${tls.combined}` : ''}
  default_backend be
backend be
  balance ${balance}
  http-reuse always
${servers}
`,
  );
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await waitFor(async () => (await probe(`${url}/health`)) < 500, { timeoutMs: 10_000 });
  return { url, pid: child.pid!, stop: () => stopProcess(child) };
}
