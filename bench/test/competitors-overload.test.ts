// The competitors of the benchmark's overload level (issue #26), as the bench configures them:
// HAProxy leastconn with maxconn per server and `timeout queue`, NGINX least_conn with
// max_conns. The rendered configs pass the programs' own checks (haproxy -c, nginx -t), and the
// real programs do what the benchmark's doc says they do: HAProxy queues past maxconn and answers
// 503 at the queue deadline, NGINX (no queue in the open-source build) answers 502 at once.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Competitor, haproxyConfig, startHaproxy } from '../src/competitors/haproxy.js';
import { NGINX_BINARIES, nginxConfig, nginxDir, startNginx } from '../src/competitors/nginx.js';
import { commandExists } from '../src/lib/procs.js';

const HOLD_MS = 1500;
const BACKENDS = ['http://127.0.0.1:9101', 'http://127.0.0.1:9102', 'http://127.0.0.1:9103'];

function need(cmd: string): string {
  // provisioned with the bench (scripts/provision.sh installs haproxy and nginx-light)
  if (!commandExists(cmd)) throw new Error(`${cmd} is not installed: run scripts/provision.sh`);
  return cmd;
}

describe('rendered configs pass the programs own checks', () => {
  it('haproxy -c: leastconn, maxconn N on every server, timeout queue', () => {
    const cfg = haproxyConfig(BACKENDS, 'leastconn', 8080, { maxconn: 4, queueTimeoutMs: 2000 });
    expect(cfg.match(/^ {2}server s\d 127\.0\.0\.1:910\d maxconn 4$/gm)).toHaveLength(3);
    expect(cfg).toMatch(/^ {2}timeout queue 2000ms$/m);
    expect(cfg).toMatch(/^ {2}balance leastconn$/m);
    const dir = mkdtempSync(join(tmpdir(), 'ovb-haproxy-'));
    writeFileSync(join(dir, 'haproxy.cfg'), cfg);
    const r = spawnSync(need('haproxy'), ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    // without the options: no queue deadline, a maxconn the bench never reaches
    const plain = haproxyConfig(BACKENDS, 'leastconn', 8080);
    expect(plain).not.toMatch(/timeout queue/);
    expect(plain.match(/maxconn 1000$/gm)).toHaveLength(3);
  });

  it('nginx -t: least_conn, max_conns=N on every server, and no queue directive (NGINX Plus only)', () => {
    const bin = NGINX_BINARIES.find((b) => commandExists(b));
    if (!bin) throw new Error('nginx is not installed: run scripts/provision.sh');
    const dir = nginxDir();
    const cfg = nginxConfig(BACKENDS, 'least_conn', 8080, dir, { maxConns: 4 });
    expect(cfg.match(/^ {4}server 127\.0\.0\.1:910\d max_conns=4;$/gm)).toHaveLength(3);
    expect(cfg).toMatch(/^ {4}least_conn;$/m);
    expect(cfg).not.toMatch(/^\s*queue\b/m);
    writeFileSync(join(dir, 'nginx.conf'), cfg);
    const r = spawnSync(bin, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    // and the check is real: open-source NGINX refuses the Plus directive
    writeFileSync(
      join(dir, 'nginx.conf'),
      cfg.replace('keepalive 256;', 'keepalive 256;\n    queue 100 timeout=2s;'),
    );
    const plus = spawnSync(bin, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    expect(plus.status, `${plus.stdout}${plus.stderr}`).not.toBe(0);
  });
});

describe('at their limit, on a backend that holds every request', () => {
  let backend: Server;
  let url: string;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    backend = createServer((req, res) => {
      if (req.url?.startsWith('/health')) return void res.end('ok');
      setTimeout(() => res.end('slow'), HOLD_MS);
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of stops) await s();
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
  });

  /** Two requests at once through `p`: [status, ms] each, in the order they were sent. */
  async function two(p: Competitor): Promise<[[number, number], [number, number]]> {
    const agent = new Agent({ connections: 4 });
    const one = async (): Promise<[number, number]> => {
      const t0 = performance.now();
      const res = await request(`${p.url}/slow`, { dispatcher: agent });
      await res.body.dump();
      return [res.statusCode, performance.now() - t0];
    };
    const first = one();
    await new Promise((r) => setTimeout(r, 100)); // the first is at the backend
    const out = await Promise.all([first, one()] as const);
    await agent.close();
    return out;
  }

  it('HAProxy maxconn 1 + timeout queue 300 ms: the second request waits, then 503 at the deadline', async () => {
    need('haproxy');
    const p = await startHaproxy([url], 'leastconn', { maxconn: 1, queueTimeoutMs: 300 });
    expect(p).toBeDefined();
    stops.push(() => p!.stop());
    const [a, b] = await two(p!);
    expect(a[0]).toBe(200);
    expect(b[0]).toBe(503);
    // it waited for the deadline (not refused at once), and did not wait for the backend
    expect(b[1]).toBeGreaterThanOrEqual(250);
    expect(b[1]).toBeLessThan(HOLD_MS - 200);
  });

  it('NGINX max_conns=1 (no queue): the second request gets 502 without waiting for the backend', async () => {
    const p = await startNginx([url], 'least_conn', { maxConns: 1 });
    if (!p) throw new Error('nginx is not installed: run scripts/provision.sh');
    stops.push(() => p.stop());
    const [a, b] = await two(p);
    expect(a[0]).toBe(200);
    expect(b[0]).toBe(502);
    expect(b[1]).toBeLessThan(HOLD_MS - 200);
  });
});
