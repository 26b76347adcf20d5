// TLS termination on real sockets (issue #24): the real balancer with TLS_PORT and a
// TLS_CERT_DIR of openssl-made pairs, in front of an echo backend. SNI picks each pair's
// certificate, a client without SNI gets the default one, a pair replaced on disk is served
// to new handshakes within 5 s while a keep-alive load sees no failure, a bad pair leaves
// the previous certificate in use, and wrong-protocol clients get a close or a 400, not a hang.
import { rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { type AddressInfo, createServer as createNetServer, connect as netConnect } from 'node:net';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  certDir,
  freePort,
  installPair,
  makeCa,
  runUntilExit,
  type TestCa,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { echoServer, type RunningLb, startLb, type TestServer, waitHealthy } from './lb-fixtures.js';

let ca: TestCa;
let dir: string;
let backend: TestServer;
/** The service `secure` (host secure.test, lb.tls.redirect=true); `backend` is the catch-all. */
let secure: TestServer;
let lb: RunningLb;
let tlsPort: number;
const serials: Record<string, string> = {};

/** The serial of the certificate a new handshake gets (SNI `servername`, none when undefined). */
function servedSerial(servername: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port: tlsPort, servername, rejectUnauthorized: false },
      () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.end();
        resolve(serial);
      },
    );
    socket.once('error', reject);
  });
}

/** One GET over TLS, verified against the test CA for `host`. */
function get(host: string, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: tlsPort,
        servername: host,
        headers: { host },
        path: '/x',
        ca: ca.pem,
        agent: agent ?? false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

/** One request on an open TLS connection; resolves with the response head and what came with it. */
function ask(socket: TLSSocket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = /content-length: (\d+)/i.exec(text.slice(0, end))?.[1];
      // the whole response: its content-length, or the last chunk of a chunked body
      if (length !== undefined ? text.length >= end + 4 + Number(length) : text.endsWith('0\r\n\r\n')) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nhost: a.test\r\n\r\n`);
  });
}

beforeAll(async () => {
  ca = makeCa();
  dir = certDir('hr-tls-certs-');
  const pairs: Record<string, string[]> = {
    a: ['a.test'],
    b: ['b.test', '*.b.test'],
    exact: ['api.b.test'],
    default: ['fallback.test', 'secure.test'],
  };
  for (const [name, names] of Object.entries(pairs)) {
    const leaf = ca.leaf(names);
    installPair(dir, name, leaf);
    serials[name] = leaf.serial;
  }
  backend = await echoServer('echo');
  // WebSockets on the same backend: echoes each message with the proto the proxy reported
  new WebSocketServer({ server: backend.server }).on('connection', (ws, req) => {
    ws.on('message', (m) => ws.send(`${req.headers['x-forwarded-proto']} ${String(m)}`));
  });
  secure = await echoServer('secure');
  tlsPort = await freePort();
  lb = await startLb({
    BACKENDS: `${backend.url},${secure.url}#service=secure&host=secure.test&redirect=true`,
    TLS_REDIRECT_PORT: String(tlsPort),
    TLS_PORT: String(tlsPort),
    TLS_CERT_DIR: dir,
    CLIENT_HEADER_TIMEOUT_MS: '1000',
  });
  await waitHealthy(lb.admin, 2);
});

afterAll(async () => {
  await lb?.stop();
  await backend?.close();
  await secure?.close();
  for (const d of [dir, ca?.dir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('certificate selection', () => {
  it.each([
    ['a.test', 'a'],
    ['B.Test', 'b'],
    ['www.b.test', 'b'], // wildcard
    ['api.b.test', 'exact'], // exact beats the wildcard
    ['unknown.test', 'default'],
    [undefined, 'default'], // no SNI
  ])('SNI %s gets %s.crt', async (sni, pair) => {
    expect(await servedSerial(sni)).toBe(serials[pair]);
  });

  it('the chain verifies against the CA for the SNI name, and the backend is told X-Forwarded-Proto: https', async () => {
    const res = await get('a.test');
    expect(res.status).toBe(200);
    const echoed = JSON.parse(res.body) as { headers: Record<string, string> };
    expect(echoed.headers['x-forwarded-proto']).toBe('https');
    expect(echoed.headers.host).toBe('a.test');
    // the plain port goes on serving http
    const plain = (await (await fetch(`${lb.proxy}/x`)).json()) as { headers: Record<string, string> };
    expect(plain.headers['x-forwarded-proto']).toBe('http');
  });

  it('a WebSocket over TLS goes through the same upgrade handler as on the plain port', async () => {
    // ws hands these to tls.connect (servername included, though its types do not list it)
    const options = { servername: 'a.test', ca: ca.pem, headers: { host: 'a.test' } };
    const ws = new WebSocket(`wss://127.0.0.1:${tlsPort}/ws`, options);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hello'));
      ws.once('message', (m) => resolve(String(m)));
      ws.once('error', reject);
    });
    ws.close();
    expect(reply).toBe('https hello');
  });

  it('refuses TLS below 1.2', async () => {
    const err = await new Promise<Error | undefined>((resolve) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port: tlsPort,
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
        rejectUnauthorized: false,
      });
      s.once('secureConnect', () => {
        s.destroy();
        resolve(undefined);
      });
      s.once('error', resolve);
    });
    expect(err).toBeDefined();
  });
});

describe('reload', () => {
  it('a pair replaced on disk is served to new handshakes within 5 s; a keep-alive load sees no failure and its old connection stays', async () => {
    // a connection handshaken before the change, used again after it
    const old: TLSSocket = await new Promise((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, servername: 'a.test', ca: ca.pem }, () =>
        resolve(s),
      );
      s.once('error', reject);
    });
    // one request on it now: an idle connection that never sent one would be closed by the
    // header timeout (CLIENT_HEADER_TIMEOUT_MS), a keep-alive one that did is not
    expect(await ask(old, '/before')).toMatch(/^HTTP\/1\.1 200/);
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop) {
          try {
            const r = await get('a.test', agent);
            if (r.status === 200) ok++;
            else failures.push(`status ${r.status}`);
          } catch (err) {
            failures.push((err as Error).message);
          }
        }
      }),
    );
    await waitFor(async () => ok > 20, { timeoutMs: 10_000, message: 'load running' });
    const next = ca.leaf(['a.test']);
    const changedAt = Date.now();
    installPair(dir, 'a', next);
    await waitFor(async () => (await servedSerial('a.test')) === next.serial, {
      timeoutMs: 5_000,
      intervalMs: 100,
      message: 'the new a.crt served to a new handshake',
    });
    const tookMs = Date.now() - changedAt;
    const okAtSwap = ok;
    await waitFor(async () => ok > okAtSwap + 20, { timeoutMs: 10_000, message: 'load after the swap' });
    stop = true;
    await load;
    agent.destroy();
    expect(failures).toEqual([]);
    expect(tookMs).toBeLessThan(5_000);
    // the old connection still has the old certificate and still answers
    expect(old.getPeerCertificate().serialNumber).toBe(serials.a);
    expect(await ask(old, '/old')).toMatch(/^HTTP\/1\.1 200/);
    old.destroy();
    serials.a = next.serial;
  });

  it('a key that does not match its certificate, or a certificate that is not PEM, leaves the previous one in use and is logged with the file name', async () => {
    const other = ca.leaf(['b.test', '*.b.test']);
    writeFileSync(join(dir, 'b.key'), other.key); // b.crt unchanged: the new key is not its key
    writeFileSync(join(dir, 'exact.crt'), 'not a certificate\n');
    await waitFor(async () => lb.proc.output().includes('b.key') && lb.proc.output().includes('exact.crt'), {
      timeoutMs: 8_000,
      message: 'both bad pairs logged',
    });
    const out = lb.proc.output();
    expect(out).toMatch(
      /TLS certificate b\.key not loaded: the key does not belong to b\.crt; the previous one stays in use/,
    );
    expect(out).toMatch(/TLS certificate exact\.crt not loaded: not a PEM certificate/);
    expect(await servedSerial('b.test')).toBe(serials.b);
    expect(await servedSerial('api.b.test')).toBe(serials.exact);
    expect((await get('www.b.test')).status).toBe(200);
    const metrics = await (await fetch(`${lb.admin}/metrics`)).text();
    expect(metrics).toMatch(/headroom_lb_tls_certificate_errors_total\{file="b"\} 1/);
    expect(metrics).toMatch(/headroom_lb_tls_certificates 4/);
  });

  it('a certificate and its key written one after the other (renamed separately) load without an error', async () => {
    const before = lb.proc.output().length;
    const next = ca.leaf(['a.test']);
    writeFileSync(join(dir, 'a.crt'), next.cert); // the key follows 400 ms later: past the debounce
    await new Promise((r) => setTimeout(r, 400));
    writeFileSync(join(dir, 'a.key'), next.key);
    await waitFor(async () => (await servedSerial('a.test')) === next.serial, {
      timeoutMs: 5_000,
      intervalMs: 100,
    });
    await new Promise((r) => setTimeout(r, 1_500)); // past the settle time
    expect(lb.proc.output().slice(before)).not.toMatch(/a\.(crt|key) not loaded/);
  });
});

/** One plain-HTTP GET to the balancer's plain port with this Host. */
function plainGet(host: string, path: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: Number(new URL(lb.proxy).port), path, headers: { host }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

describe('lb.tls.redirect', () => {
  it('plain HTTP to a service with lb.tls.redirect=true gets a 308 to the https URL, which serves it', async () => {
    const res = await plainGet('secure.test:8080', '/x?y=1');
    expect(res.status).toBe(308);
    expect(res.location).toBe(`https://secure.test:${tlsPort}/x?y=1`);
    const followed = await get('secure.test');
    expect(followed.status).toBe(200);
    expect((JSON.parse(followed.body) as { name: string }).name).toBe('secure');
  });

  it('another service on the same plain port is served as before, and an ACME challenge is not redirected', async () => {
    const other = await plainGet('other.test', '/x');
    expect(other.status).toBe(200);
    expect((JSON.parse(other.body) as { name: string }).name).toBe('echo');
    const acme = await plainGet('secure.test', '/.well-known/acme-challenge/token-1');
    expect(acme.status).toBe(200);
    expect((JSON.parse(acme.body) as { name: string }).name).toBe('secure');
  });
});

describe('the wrong protocol on either port', () => {
  it('plain HTTP to the TLS port: the connection is closed, no hang', async () => {
    const closedAfter = await new Promise<number>((resolve) => {
      const start = Date.now();
      const s = netConnect(tlsPort, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nhost: a.test\r\n\r\n'));
      s.on('data', () => {});
      s.once('error', () => {});
      s.once('close', () => resolve(Date.now() - start));
    });
    expect(closedAfter).toBeLessThan(3_000);
  });

  it('a client that opens the TLS port and says nothing is closed after CLIENT_HEADER_TIMEOUT_MS', {
    timeout: 20_000,
  }, async () => {
    const closedAfter = await new Promise<number>((resolve) => {
      const start = Date.now();
      const s = netConnect(tlsPort, '127.0.0.1');
      s.once('error', () => {});
      s.once('close', () => resolve(Date.now() - start));
    });
    // 1 s configured; Node's default would hold it 120 s
    expect(closedAfter).toBeGreaterThan(500);
    expect(closedAfter).toBeLessThan(10_000);
  });

  it('a TLS ClientHello to the plain port: 400 and a close', async () => {
    const captured = await captureClientHello();
    const port = Number(new URL(lb.proxy).port);
    const reply = await new Promise<string>((resolve) => {
      let text = '';
      const s = netConnect(port, '127.0.0.1', () => s.write(captured));
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
      });
      s.once('error', () => {});
      s.once('close', () => resolve(text));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request/);
  });
});

/** A real ClientHello: what node:tls sends first, recorded by a server that only listens. */
async function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = createNetServer((conn) => {
      conn.once('data', (d: Buffer) => {
        resolve(d);
        conn.destroy();
        server.close();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      const client = tlsConnect({ host: '127.0.0.1', port, servername: 'a.test' });
      client.once('error', () => {});
    });
  });
}

describe('configuration', () => {
  const run = (env: Record<string, string>) =>
    runUntilExit('load-balancer', { DISCOVERY: 'static', PORT: '0', ADMIN_PORT: '0', ...env }, 20_000);
  it('TLS_PORT without TLS_CERT_DIR exits 1 with one line naming the field', async () => {
    const r = await run({ TLS_PORT: '8443' });
    expect(r.code).toBe(1);
    const lines = r.output.trim().split('\n');
    expect(lines[0]).toBe('invalid configuration for load-balancer:');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}TLS_CERT_DIR=\(unset\): TLS_PORT is set: it needs TLS_CERT_DIR/),
    ]);
  });
  it('a TLS_CERT_DIR that does not exist exits 1 naming it', async () => {
    const r = await run({ TLS_PORT: '0', TLS_CERT_DIR: '/nonexistent/certs' });
    expect(r.code).toBe(1);
    expect(r.output).toContain('TLS_CERT_DIR="/nonexistent/certs": no such directory');
    expect(r.output).not.toMatch(/\n\s+at /); // no stack
  });
});
