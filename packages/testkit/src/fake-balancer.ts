// A stand-in for the balancer's admin API, for the autoscaler's tests that set what the balancer
// reports (backends, their in-flight requests, a service's sleep view) or record what the
// autoscaler asks of it (drains, registrations, sleep announcements) — answers the real balancer
// cannot be made to give on cue. A real HTTP server, reached through the autoscaler's own
// client; each test answers the routes it is about, every other route is a 404.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BackendView } from '@headroom/shared';

/** A backend as GET /api/backends shows it: healthy, idle, no metrics, unless `b` says otherwise. */
export function backendView(b: Pick<BackendView, 'id'> & Partial<BackendView>): BackendView {
  return {
    url: 'http://x',
    name: b.id,
    service: 'x',
    source: 'static',
    state: 'healthy',
    stateReason: null,
    inFlight: 0,
    requests: 0,
    errors: 0,
    rps: 0,
    cpu: null,
    mem: null,
    score: null,
    metricsAgeMs: null,
    latencyMs: null,
    weight: 1,
    effectiveWeight: 1,
    sticky: { kind: 'none' },
    ...b,
  };
}

export interface FakeRequest {
  method: string;
  url: string;
  /** The request body as text ('' when none). */
  body: string;
}

/** `body` is sent as JSON; none: an empty body. */
export interface FakeAnswer {
  status?: number;
  body?: unknown;
}

export type FakeHandler = (req: FakeRequest) => FakeAnswer | undefined | Promise<FakeAnswer | undefined>;

export interface FakeBalancer {
  /** http://127.0.0.1:PORT: the autoscaler's LB_ADMIN_URL. */
  url: string;
  close(): Promise<void>;
}

/** Listens on a free loopback port; `handle` answers each request, undefined is a 404. */
export async function startFakeBalancer(handle: FakeHandler): Promise<FakeBalancer> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      void (async () => {
        const answer = await handle({ method: req.method ?? 'GET', url: req.url ?? '/', body });
        if (!answer) {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
          return;
        }
        if (answer.body === undefined) {
          res.writeHead(answer.status ?? 200).end();
          return;
        }
        res
          .writeHead(answer.status ?? 200, { 'content-type': 'application/json' })
          .end(JSON.stringify(answer.body));
      })().catch((err: Error) => res.writeHead(500).end(err.message));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
