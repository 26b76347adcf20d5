// Component tests: the page against a fetch stub at the network boundary.
import type { BackendView } from '@headroom/shared/contracts';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './app';

const backend = (id: string, extra: Partial<BackendView> = {}): BackendView => ({
  id,
  url: `http://10.0.0.${id.length}:3000`,
  name: `backend-${id}`,
  service: 'backend',
  source: 'docker',
  state: 'healthy',
  stateReason: null,
  inFlight: 2,
  requests: 10,
  errors: 0,
  rps: 12.5,
  cpu: 0.42,
  mem: 0.1,
  score: 0.66,
  metricsAgeMs: 400,
  latencyMs: 5,
  weight: 1,
  effectiveWeight: 0.5,
  sticky: { kind: 'none' },
  ...extra,
});

interface ServerState {
  mode: string;
  token: string | undefined;
  /** ADMIN_READS_NEED_TOKEN: reads of /api/* but /api/info need the token too. */
  readsNeedToken?: boolean;
  autoscaler: boolean;
  down: boolean;
  events: unknown[];
  calls: Array<{
    method: string;
    path: string;
    auth: string | undefined;
    body: { mode?: string } | undefined;
  }>;
}
let server: ServerState;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

beforeEach(() => {
  sessionStorage.clear();
  server = {
    mode: 'resource-aware',
    token: undefined,
    autoscaler: false,
    down: false,
    events: [],
    calls: [],
  };
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      if (server.down) throw new TypeError('fetch failed');
      const method = init?.method ?? 'GET';
      const auth = (init?.headers as Record<string, string> | undefined)?.authorization;
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      server.calls.push({ method, path: url, auth, body });
      const guarded = method !== 'GET' || (server.readsNeedToken === true && url !== '/api/info');
      if (guarded && server.token && auth !== `Bearer ${server.token}`) {
        return json(401, {
          statusCode: 401,
          code: 'LB_ERR_UNAUTHORIZED',
          error: 'Unauthorized',
          message: 'token',
        });
      }
      if (url === '/api/info')
        return json(200, {
          version: '0.1.0',
          authRequired: server.token !== undefined,
          discovery: 'docker',
          autoscaler: server.autoscaler ? { url: 'http://as:8082' } : null,
          grafana: null,
        });
      if (url === '/api/backends')
        return json(200, {
          mode: server.mode,
          backends: [backend('a'), backend('bb', { state: 'draining' })],
        });
      if (url === '/api/stats/history') return json(200, { points: [] });
      if (url === '/api/events') return json(200, { events: server.events });
      if (url === '/api/burst' && method === 'POST')
        return json(200, { sent: 300, ok: 300, failed: 0, durationMs: 1500, byBackend: {} });
      if (url === '/api/mode' && method === 'PUT') {
        server.mode = body.mode;
        return json(200, { mode: server.mode, modes: [] });
      }
      if (url.endsWith('/cpu/toggle')) return json(200, { on: true, cores: 1, duty: 1, maxCores: 2 });
      if (url === '/api/autoscaler/status')
        return json(200, {
          service: 'backend',
          runtime: 'docker',
          current: 2,
          desired: 3,
          ready: 2,
          min: 1,
          max: 10,
          paused: false,
          holdReason: null,
          lastMetrics: [],
          lastDecision: null,
          services: [
            {
              service: 'backend',
              current: 2,
              desired: 3,
              ready: 2,
              min: 1,
              max: 10,
              holdReason: null,
              lastMetrics: [],
              lastDecision: null,
            },
            {
              service: 'shop',
              current: 1,
              desired: 1,
              ready: 1,
              min: 1,
              max: 4,
              holdReason: 'ConfigInvalid',
              lastMetrics: [],
              lastDecision: null,
            },
          ],
        });
      if (url === '/api/autoscaler/decisions')
        return json(200, {
          decisions: [
            {
              service: 'backend',
              at: new Date().toISOString(),
              current: 2,
              ready: 2,
              desired: 3,
              action: 'scale-up',
              reason: 'ScaleUp',
              message: 'cpu 0.9 over target 0.6',
              metrics: [],
              dryRun: false,
            },
          ],
        });
      return json(404, { statusCode: 404, code: 'NOPE', error: 'Not Found', message: url });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('dashboard', () => {
  it('shows the backends with their state and numbers', async () => {
    render(<App />);
    expect(await screen.findByText('backend-a')).toBeTruthy();
    expect(screen.getByText('backend-bb')).toBeTruthy();
    expect(screen.getByText('draining')).toBeTruthy();
    expect(screen.getAllByText('42%').length).toBeGreaterThan(0);
    expect(screen.getByText('1/2 backends healthy · docker discovery')).toBeTruthy();
  });

  it('switches the mode on the server and shows the server mode', async () => {
    render(<App />);
    await screen.findByText('backend-a');
    const latency = screen.getByRole('button', { name: 'Latency' });
    expect(latency.getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(latency);
    await waitFor(() =>
      expect(server.calls.some((c) => c.method === 'PUT' && c.body?.mode === 'latency')).toBe(true),
    );
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Latency' }).getAttribute('aria-pressed')).toBe('true'),
    );
  });

  it('asks for the admin token on 401 and retries with it', async () => {
    server.token = 'secret';
    render(<App />);
    await screen.findByText('backend-a');
    fireEvent.click(screen.getByRole('button', { name: 'Round-robin' }));
    const input = await screen.findByLabelText('token');
    expect(screen.getByText(/requires an admin token/)).toBeTruthy();
    fireEvent.change(input, { target: { value: 'secret' } });
    fireEvent.click(screen.getByText('Use token'));
    await waitFor(() => expect(server.mode).toBe('round-robin'));
    expect(server.calls.find((c) => c.method === 'PUT' && c.auth === 'Bearer secret')).toBeTruthy();
    expect(sessionStorage.getItem('headroom-admin-token')).toBe('secret');
  });

  it('ADMIN_READS_NEED_TOKEN: the first read 401 asks for the token, and the reads then carry it', async () => {
    server.token = 'secret';
    server.readsNeedToken = true;
    render(<App />);
    const input = await screen.findByLabelText('token');
    expect(screen.queryByText('backend-a')).toBeNull();
    fireEvent.change(input, { target: { value: 'secret' } });
    fireEvent.click(screen.getByText('Use token'));
    await screen.findByText('backend-a');
    expect(server.calls.find((c) => c.path === '/api/backends' && c.auth === 'Bearer secret')).toBeTruthy();
    expect(sessionStorage.getItem('headroom-admin-token')).toBe('secret');
  });

  it('the burst button on 401: asks for the token, re-sends the burst with it and keeps the token', async () => {
    server.token = 'secret';
    render(<App />);
    await screen.findByText('backend-a');
    fireEvent.click(screen.getByRole('button', { name: 'Send a burst of /load' }));
    const input = await screen.findByLabelText('token');
    fireEvent.change(input, { target: { value: 'secret' } });
    fireEvent.click(screen.getByText('Use token'));
    expect(await screen.findByText('300/300 ok in 1.5 s')).toBeTruthy();
    const bursts = server.calls.filter((c) => c.path === '/api/burst');
    expect(bursts.map((c) => c.auth)).toEqual([undefined, 'Bearer secret']);
    // a right token is kept, and no "rejected" prompt follows
    expect(sessionStorage.getItem('headroom-admin-token')).toBe('secret');
    expect(screen.queryByLabelText('token')).toBeNull();
    // the next burst sends it at once
    fireEvent.click(screen.getByRole('button', { name: 'Send a burst of /load' }));
    await waitFor(() => expect(server.calls.filter((c) => c.path === '/api/burst')).toHaveLength(3));
    expect(server.calls.filter((c) => c.path === '/api/burst').at(-1)!.auth).toBe('Bearer secret');
    expect(screen.queryByLabelText('token')).toBeNull();
  });

  it('a wrong token: the prompt says it was rejected, and a right one then works', async () => {
    server.token = 'secret';
    render(<App />);
    await screen.findByText('backend-a');
    fireEvent.click(screen.getByRole('button', { name: 'Send a burst of /load' }));
    fireEvent.change(await screen.findByLabelText('token'), { target: { value: 'wrong' } });
    fireEvent.click(screen.getByText('Use token'));
    expect(await screen.findByText(/rejected the token/)).toBeTruthy();
    expect(sessionStorage.getItem('headroom-admin-token')).toBeNull();
    fireEvent.change(screen.getByLabelText('token'), { target: { value: 'secret' } });
    fireEvent.click(screen.getByText('Use token'));
    expect(await screen.findByText('300/300 ok in 1.5 s')).toBeTruthy();
    expect(sessionStorage.getItem('headroom-admin-token')).toBe('secret');
  });

  it('shows backend transitions with their reasons beside the table, newest first', async () => {
    server.events = [
      {
        seq: 1,
        at: Date.now() - 2000,
        id: 'a',
        name: 'backend-a',
        from: 'unhealthy',
        to: 'healthy',
        code: 'health-check-passed',
        reason: 'health check passed',
      },
      {
        seq: 2,
        at: Date.now() - 1000,
        id: 'bb',
        name: 'backend-bb',
        from: 'healthy',
        to: 'ejected',
        code: 'consecutive-failures',
        reason: 'ejected after 3 consecutive failures (connect-error)',
      },
    ];
    render(<App />);
    const items = await screen.findAllByTestId('transition');
    expect(items).toHaveLength(2);
    expect(items[0]!.textContent).toContain('healthy → ejected');
    expect(items[0]!.textContent).toContain('ejected after 3 consecutive failures');
    expect(items[0]!.className).toBe('tone-bad');
    expect(items[1]!.textContent).toContain('unhealthy → healthy');
  });

  it('says so when the balancer is unreachable, and recovers', async () => {
    server.down = true;
    render(<App />);
    expect(await screen.findByRole('alert')).toBeTruthy();
    server.down = false;
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull(), { timeout: 4000 });
    expect(await screen.findByText('backend-a')).toBeTruthy();
  });

  it('explains how to enable the autoscaler and Grafana when they are not configured', async () => {
    render(<App />);
    expect(await screen.findByTestId('no-autoscaler')).toBeTruthy();
    expect(screen.getByTestId('no-grafana').textContent).toContain('GRAFANA_URL');
  });

  it('shows the autoscaler replicas and decisions with reasons when configured', async () => {
    server.autoscaler = true;
    render(<App />);
    expect(await screen.findByText('ScaleUp')).toBeTruthy();
    expect(screen.getByText(/cpu 0.9 over target 0.6/)).toBeTruthy();
    expect(screen.getAllByText('Desired')).toHaveLength(2);
    // one row per scaled service, with its own counts, range and hold
    const shop = screen.getByTestId('autoscaler-service-shop');
    expect(shop.textContent).toContain('1–4');
    expect(shop.textContent).toContain('on hold: ConfigInvalid');
    expect(screen.getByTestId('autoscaler-service-backend').textContent).toContain('1–10');
  });

  it('toggles CPU stress on a backend', async () => {
    render(<App />);
    await screen.findByText('backend-a');
    fireEvent.click(screen.getAllByText('Stress CPU')[0]!);
    await waitFor(() => expect(server.calls.some((c) => c.path === '/api/backends/a/cpu/toggle')).toBe(true));
    expect(await screen.findByText('Stop stress')).toBeTruthy();
  });
});
