// Caddy from Debian's package (the Go proxy with automatic TLS that small-host users
// pick), on a loopback port, Caddyfile generated per run: the admin endpoint off, no
// automatic HTTPS for the plain case, `tls <cert> <key>` for the TLS case. GOMAXPROCS=1,
// as HAProxy runs one thread and NGINX one worker here; its state (certificate storage,
// autosave) goes to a temporary directory, not the user's home.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCert } from '../lib/bench-cert.js';
import { commandExists, freePort, probe, stopProcess, waitFor } from '../lib/procs.js';
import type { Competitor } from './haproxy.js';

export async function startCaddy(backend: string, tls?: BenchCert): Promise<Competitor | undefined> {
  if (!commandExists('caddy')) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hr-caddy-'));
  const site = tls
    ? `https://:${port} {\n\ttls ${tls.cert} ${tls.key}\n\treverse_proxy ${new URL(backend).host}\n}\n`
    : `http://:${port} {\n\treverse_proxy ${new URL(backend).host}\n}\n`;
  writeFileSync(
    join(dir, 'Caddyfile'),
    `{
\tadmin off
\t${tls ? 'auto_https disable_redirects' : 'auto_https off'}
\tskip_install_trust
${tls ? '\tdefault_sni bench.test\n' : ''}\tlog {
\t\tlevel ERROR
\t}
}
${site}`,
  );
  const child: ChildProcess = spawn(
    'caddy',
    ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'],
    {
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        XDG_DATA_HOME: dir,
        XDG_CONFIG_HOME: dir,
        GOMAXPROCS: '1',
      },
    },
  );
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await waitFor(async () => (await probe(`${url}/health`)) < 500, { timeoutMs: 15_000 });
  return { url, pid: child.pid!, stop: () => stopProcess(child) };
}
