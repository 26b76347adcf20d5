// Nothing silent, in the adapters: a Prometheus that answers an error (HTTP or
// `status: error`) is a logged failure, not "no data"; a Docker inspect that fails for any
// other reason than 404 keeps the container as last seen, with a warning, instead of
// silently dropping it. Real HTTP, and the real engine behind a proxy that can fail inspects.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type LoadBalancerConfig,
  type Logger,
  loadBalancerConfigSchema,
  parseConfig,
} from '@headroom/shared';
import {
  ensureBaseImage,
  lbLabels,
  removeRun,
  requireDocker,
  runNodeScript,
  waitFor,
} from '@headroom/testkit';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendSet, BackendSpec } from '../src/discovery/backend-set.js';
import { createDockerSource } from '../src/discovery/docker-source.js';
import { DockerStatsSource } from '../src/resources/docker-stats-source.js';
import { PrometheusSource } from '../src/resources/prometheus-source.js';
import type { ResourceSample } from '../src/resources/resource-sample.js';

interface Line {
  level: 'warn' | 'info' | 'debug';
  msg: string;
  fields: Record<string, unknown>;
}
/** A logger that keeps what it is told (the adapters take pino's interface). */
function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: Record<string, unknown>, msg: string) =>
    lines.push({ level, msg, fields });
  const logger = {
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    error: at('warn'),
    child: () => logger,
  } as unknown as Logger;
  return { logger, lines };
}

const spec = (id: string): BackendSpec => ({
  id,
  url: `http://127.0.0.1:1/${id}`,
  name: id,
  service: '',
  source: 'static',
  healthPath: '/health',
  sticky: { kind: 'none' },
});

describe('prometheus resource source', () => {
  it('an HTTP error or status:error is a warned failure (once per outage), and recovery is logged', async () => {
    let mode: 'http-503' | 'status-error' | 'ok' = 'http-503';
    const prom: Server = createServer((_req, res) => {
      if (mode === 'http-503') {
        res.writeHead(503);
        res.end('unavailable');
      } else if (mode === 'status-error') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error at char 3' }));
      } else {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            status: 'success',
            data: { resultType: 'vector', result: [{ metric: { backend: 'b1' }, value: [0, '0.5'] }] },
          }),
        );
      }
    });
    await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(prom.address() as { port: number }).port}`;
    const { logger, lines } = capture();
    const samples: ResourceSample[] = [];
    const source = new PrometheusSource(url, 'cpu_q', undefined, (s) => samples.push(s), logger, 100);
    source.update([spec('b1')]);
    try {
      await waitFor(() => lines.some((l) => l.level === 'warn'), { timeoutMs: 3000 });
      expect(lines.find((l) => l.level === 'warn')!.fields.err).toContain('HTTP 503');
      mode = 'status-error';
      await waitFor(() => lines.some((l) => String(l.fields.err).includes('parse error at char 3')), {
        timeoutMs: 3000,
      });
      // one warn for the whole outage, the rest at debug
      expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
      expect(samples).toEqual([]);
      mode = 'ok';
      await waitFor(() => samples.length > 0, { timeoutMs: 3000 });
      expect(samples[0]).toMatchObject({ id: 'b1', cpu: 0.5 });
      expect(lines.some((l) => l.level === 'info' && l.msg.includes('answer again'))).toBe(true);
    } finally {
      await source.stop();
      prom.close();
    }
  });
});

const SERVICE = `lbinspect-${process.pid}`;
const SOCK = join(tmpdir(), `headroom-inspect-${process.pid}.sock`);

describe('docker discovery when inspect fails', () => {
  afterAll(() => {
    removeRun(SERVICE);
    rmSync(SOCK, { force: true });
  });

  it('keeps a known container through a failing inspect (500), with a warning; a lost stats stream is a warn', async () => {
    requireDocker();
    ensureBaseImage();
    removeRun(SERVICE);
    let failInspect = false;
    // cut the first stats stream after its first second
    let cutStats = false;
    // an HTTP proxy in front of the real engine socket that can fail container inspects
    const proxy = createServer((req, res) => {
      if (failInspect && req.method === 'GET' && /\/containers\/[0-9a-f]+\/json/.test(req.url ?? '')) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'injected engine error' }));
        return;
      }
      const up = httpRequest(
        { socketPath: '/var/run/docker.sock', path: req.url, method: req.method, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          // a streaming answer (the events stream) sends its headers at once, as the engine
          // does: Node holds them until the first body byte, and with no other Docker activity
          // on the machine no event comes, so the source's start() waited forever
          res.flushHeaders();
          r.pipe(res);
          if (cutStats && /\/stats/.test(req.url ?? '')) {
            cutStats = false;
            setTimeout(() => {
              r.destroy();
              res.destroy();
            }, 1500);
          }
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    rmSync(SOCK, { force: true });
    await new Promise<void>((r) => proxy.listen(SOCK, r));
    const config: LoadBalancerConfig = parseConfig('load-balancer', loadBalancerConfigSchema, {
      DISCOVERY: 'docker',
      LB_SERVICE: SERVICE,
      DOCKER_ADDRESS: 'published',
      RESYNC_INTERVAL_MS: '1000',
    });
    const { logger, lines } = capture();
    const sets: BackendSet[] = [];
    const source = createDockerSource(config, logger, new Docker({ socketPath: SOCK }));
    try {
      const { id } = runNodeScript({
        run: SERVICE,
        labels: lbLabels(SERVICE),
        publish: ['127.0.0.1::3000'],
        script: "require('node:http').createServer((q, s) => s.end('ok')).listen(3000)",
      });
      await source.start((set) => sets.push(set));
      await waitFor(() => sets.at(-1)?.some((s) => s.containerId === id) === true, { timeoutMs: 10_000 });
      failInspect = true;
      const published = sets.length;
      // the resync re-lists every second: a few of them with inspect failing
      await waitFor(() => lines.some((l) => l.msg.includes('docker inspect failed')), { timeoutMs: 5000 });
      await new Promise((r) => setTimeout(r, 2500));
      // nothing was published without it: the set is unchanged
      for (const set of sets.slice(published)) expect(set.some((s) => s.containerId === id)).toBe(true);
      const warn = lines.find((l) => l.msg.includes('docker inspect failed'))!;
      expect(warn.level).toBe('warn');
      expect(warn.fields).toMatchObject({ status: 500, kept: true });
      // a container that is really gone leaves the set
      failInspect = false;

      // its stats stream, cut by the proxy once: a warn when lost, an info when back
      cutStats = true;
      const samples: ResourceSample[] = [];
      const stats = new DockerStatsSource(new Docker({ socketPath: SOCK }), (x) => samples.push(x), logger);
      stats.update([{ ...spec('c1'), containerId: id }]);
      try {
        await waitFor(() => lines.some((l) => l.msg.startsWith('docker stats stream lost')), {
          timeoutMs: 10_000,
        });
        expect(lines.find((l) => l.msg.startsWith('docker stats stream lost'))!.level).toBe('warn');
        await waitFor(() => lines.some((l) => l.level === 'info' && l.msg === 'docker stats stream back'), {
          timeoutMs: 15_000,
        });
        expect(samples.length).toBeGreaterThan(0);
      } finally {
        await stats.stop();
      }

      execFileSync('docker', ['rm', '-f', id]);
      await waitFor(() => sets.at(-1)?.some((s) => s.containerId === id) === false, { timeoutMs: 10_000 });
    } finally {
      await source.stop();
      proxy.closeAllConnections();
      proxy.close();
    }
  });
});
