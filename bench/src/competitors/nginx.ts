// NGINX from Debian's package, one worker, keep-alive upstream pool, config per run.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchCert } from '../lib/bench-cert.js';
import { commandExists, freePort, probe, stopProcess, waitFor } from '../lib/procs.js';
import type { Competitor } from './haproxy.js';

export const NGINX_BINARIES = ['/usr/sbin/nginx', 'nginx'];

export interface NginxOptions {
  /** Terminate TLS with this certificate. */
  tls?: BenchCert | undefined;
  /**
   * Overload control (issue #26): `max_conns` per server. Open-source NGINX has no queue (the
   * upstream `queue` directive is NGINX Plus only): with every server at max_conns a request
   * gets 502 at once. One worker, so the limit is not split across workers.
   */
  maxConns?: number | undefined;
}

/** nginx.conf with its temp paths and pid under `dir`, listening on 127.0.0.1:`port`. Pure. */
export function nginxConfig(
  backends: string[],
  balance: 'round_robin' | 'least_conn',
  port: number,
  dir: string,
  opts: NginxOptions = {},
): string {
  const limit = opts.maxConns === undefined ? '' : ` max_conns=${opts.maxConns}`;
  const servers = backends.map((u) => `    server ${new URL(u).host}${limit};`).join('\n');
  const tls = opts.tls;
  return `worker_processes 1;
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
`;
}

/** A directory for nginxConfig's `dir` (its logs/ made). */
export function nginxDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hr-nginx-'));
  mkdirSync(join(dir, 'logs'));
  return dir;
}

export async function startNginx(
  backends: string[],
  balance: 'round_robin' | 'least_conn',
  opts: NginxOptions = {},
): Promise<Competitor | undefined> {
  const bin = NGINX_BINARIES.find((b) => commandExists(b));
  if (!bin) return undefined;
  const port = await freePort();
  const dir = nginxDir();
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(backends, balance, port, dir, opts));
  const child: ChildProcess = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  await waitFor(async () => (await probe(`${url}/health`)) < 500, { timeoutMs: 10_000 });
  return { url, pid: child.pid!, stop: () => stopProcess(child) };
}
