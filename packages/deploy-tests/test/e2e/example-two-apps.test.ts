// deploy/examples/two-apps-tls/docker-compose.yml as its comment says to run it: two apps behind
// one balancer on their own host names, one labelled with lb.* and one for Traefik only, over
// HTTP and over TLS with a certificate per app picked by SNI (issue #24's example). The run gets
// its own project, network, ports and certificate folder; `down -v` leaves nothing behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import {
  certDir,
  ensureImages,
  freePort,
  requireDocker,
  selfSignedCert,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeCommand } from '../../src/compose-command.js';
import { repoPath } from '../../src/repo-files.js';

const file = repoPath('deploy/examples/two-apps-tls/docker-compose.yml');
const [cli, ...cliArgs] = composeCommand();
const project = testRunId('hrex');
const certs = certDir('hr-example-certs-');
let env: Record<string, string> = {};
let proxy = '';
let tlsPort = 0;

function compose(...args: string[]): string {
  const res = spawnSync(cli, [...cliArgs, '-f', file, '-p', project, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (res.status !== 0) throw new Error(`compose ${args.join(' ')} failed:\n${res.stderr}`);
  return res.stdout;
}

// node:http, not fetch: fetch drops a Host header it is given (a forbidden header name) and
// would send the proxy's own address, which no route of the example answers
function get(host: string, path = '/'): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const u = new URL(proxy);
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function tlsGet(servername: string): Promise<{ status: number; san: string; instance: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port: tlsPort,
        path: '/',
        servername,
        headers: { host: servername },
        rejectUnauthorized: false,
      },
      (res) => {
        const san = (res.socket as TLSSocket).getPeerCertificate().subjectaltname ?? '';
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, san, instance: JSON.parse(text).instance }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  requireDocker();
  // the apps run the stress backend's image (made when missing); the balancer is built from this
  // checkout as the example says (layer cache hits when .ci/run or another test built it), on
  // the offline base image: the documented preparation's last line
  ensureImages(['headroom/backend:latest']);
  const prep = execFileSync('bash', [repoPath('deploy/offline-prep.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const baseImage = prep.trim().split('\n').at(-1) as string;
  // the example's own recipe for certificates (RSA, one per app); readable by the image's `node` user
  for (const app of ['shop', 'blog'])
    selfSignedCert({ names: [`${app}.localhost`], key: 'rsa', dir: certs, file: app, readable: true });
  const ports = { proxy: await freePort(), tls: await freePort(), admin: await freePort() };
  tlsPort = ports.tls;
  proxy = `http://127.0.0.1:${ports.proxy}`;
  env = {
    PROXY_PORT: String(ports.proxy),
    PROXY_TLS_PORT: String(ports.tls),
    ADMIN_PORT: String(ports.admin),
    EXAMPLE_NETWORK: `${project}-front`,
    TLS_CERTS: certs,
    BASE_IMAGE: baseImage,
    LOG_LEVEL: 'warn',
  };
  compose('build', 'load-balancer');
  compose('up', '-d');
  await waitFor(
    async () => {
      const [shop, blog] = await Promise.all([get('shop.localhost'), get('blog.localhost')]);
      return shop.body.instance === 'shop' && blog.body.instance === 'blog';
    },
    { timeoutMs: 90_000, message: 'both apps answering through the balancer' },
  );
});

afterAll(() => {
  if (env.PROXY_PORT) compose('down', '-v', '--remove-orphans');
  rmSync(certs, { recursive: true, force: true });
}, 120_000);

describe('deploy/examples/two-apps-tls', () => {
  it('routes each host to its own app, the Traefik-labelled one included', async () => {
    const hosts = ['shop.localhost', 'blog.localhost', 'www.shop.localhost', 'SHOP.localhost:8080'];
    const wrong: string[] = [];
    for (let i = 0; i < 200; i++) {
      const host = hosts[i % hosts.length]!;
      const { status, body } = await get(host, '/');
      const want = host.toLowerCase().includes('shop') ? 'shop' : 'blog';
      if (status !== 200 || body.instance !== want)
        wrong.push(`${host} → ${status} ${String(body.instance)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('answers an unknown host with a 404 naming it, without forwarding', async () => {
    const { status, body } = await get('nobody.localhost', '/x');
    expect(status).toBe(404);
    expect(JSON.stringify(body)).toMatch(/LB_ERR_NO_ROUTE/);
    expect(JSON.stringify(body)).toMatch(/nobody\.localhost/);
  });

  it('serves each app over TLS with its own certificate, picked by SNI', async () => {
    for (const app of ['shop', 'blog']) {
      const res = await tlsGet(`${app}.localhost`);
      expect(res.status).toBe(200);
      expect(res.san).toBe(`DNS:${app}.localhost`);
      expect(res.instance).toBe(app);
    }
  });
});
