// NGINX from Debian's package, one worker, keep-alive upstream pool, config per run.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCert } from '../lib/bench-cert.js';
import { commandExists, freePort, probe, stopProcess, waitFor } from '../lib/procs.js';
import type { Competitor } from './haproxy.js';

const NGINX = ['/usr/sbin/nginx', 'nginx'];

export async function startNginx(
  backends: string[],
  balance: 'round_robin' | 'least_conn',
  /** Terminate TLS with this certificate. */
  tls?: BenchCert,
): Promise<Competitor | undefined> {
  const bin = NGINX.find((b) => commandExists(b));
  if (!bin) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hr-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const servers = backends.map((u) => `    server ${new URL(u).host};`).join('\n');
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream be {
    ${balance === 'least_conn' ? 'least_conn;' : ''}
${servers}
    keepalive 256;
  }
  server {
    listen 127.0.0.1:${port}${tls ? ' ssl' : ''};
${tls ? `    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};\n` : ''}    location / {
      proxy_pass http://be;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 60s;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await waitFor(async () => (await probe(`${url}/health`)) < 500, { timeoutMs: 10_000 });
  return { url, pid: child.pid!, stop: () => stopProcess(child) };
}
