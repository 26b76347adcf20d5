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

export interface HaproxyOptions {
  /** Terminate TLS with this certificate (HAProxy's own OpenSSL, the one Node links here too). */
  tls?: BenchCert | undefined;
  /**
   * Overload control (issue #26): `maxconn` per server, so each backend holds at most this many
   * requests and the rest wait in HAProxy's backend queue, which answers 503 after
   * `timeout queue` (queueTimeoutMs). Unset: maxconn 1000 (never reached), no queue.
   */
  maxconn?: number | undefined;
  queueTimeoutMs?: number | undefined;
}

/** haproxy.cfg for `backends` (base URLs) behind a frontend on 127.0.0.1:`port`. Pure. */
export function haproxyConfig(
  backends: string[],
  balance: 'roundrobin' | 'leastconn',
  port: number,
  opts: HaproxyOptions = {},
): string {
  const maxconn = opts.maxconn ?? 1000;
  const servers = backends.map((u, i) => `  server s${i} ${new URL(u).host} maxconn ${maxconn}`).join('\n');
  return `global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
${opts.queueTimeoutMs === undefined ? '' : `  timeout queue ${opts.queueTimeoutMs}ms\n`}  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}${opts.tls ? ` ssl crt ${opts.tls.combined}` : ''}
  default_backend be
backend be
  balance ${balance}
  http-reuse always
${servers}
`;
}

export async function startHaproxy(
  backends: string[],
  balance: 'roundrobin' | 'leastconn',
  opts: HaproxyOptions = {},
): Promise<Competitor | undefined> {
  if (!commandExists('haproxy')) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hr-haproxy-'));
  writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(backends, balance, port, opts));
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await waitFor(async () => (await probe(`${url}/health`)) < 500, { timeoutMs: 10_000 });
  return { url, pid: child.pid!, stop: () => stopProcess(child) };
}
