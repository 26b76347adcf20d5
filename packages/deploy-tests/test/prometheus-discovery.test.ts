// prometheus/prometheus.yml on the real engine: Prometheus (the offline image, non-root, the
// socket read-only through its group) discovers a labelled container, scrapes it on its
// lb.network at its lb.port with the service/replica labels, and records the per-replica CPU
// ratio the autoscaler reads. A container without lb.enable is not scraped.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { LB_LABELS, RECORDED_SERIES } from '@headroom/shared';
import {
  ensureBaseImage,
  ensureImage,
  removeRun,
  requireDocker,
  runLabelled,
  runNodeScript,
  testRunId,
  waitFor,
} from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from '../src/repo-files.js';

const run = testRunId('disc');
const network = `hr-${run}`;
const service = `svc-${run}`;
const PROMETHEUS_IMAGE = process.env.PROMETHEUS_IMAGE ?? 'headroom/prometheus:local';

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

// A stand-in backend exporting the series the recording rules read: 0.25 CPU-s/s on a 0.5 limit.
const fakeBackend = `
const start = Date.now();
require('node:http').createServer((req, res) => {
  const cpu = ((Date.now() - start) / 1000) * 0.25;
  res.end([
    'process_cpu_seconds_total ' + cpu,
    'process_resident_memory_bytes 100',
    'headroom_backend_cpu_limit_cores 0.5',
    'headroom_backend_memory_limit_bytes 400',
    'headroom_backend_requests_total{route="/load",status="200"} 1',
    '',
  ].join('\\n'));
}).listen(3000);`;

let prometheusUrl = '';

async function query(
  promql: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { data: { result: [] } };
  return body.data.result;
}

describe('prometheus/prometheus.yml discovery', () => {
  beforeAll(() => {
    requireDocker();
    ensureImage(PROMETHEUS_IMAGE);
    ensureBaseImage();
    docker('network', 'create', network);
    const labels = (extra: Record<string, string>) => ({
      [LB_LABELS.service]: service,
      [LB_LABELS.network]: network,
      [LB_LABELS.port]: '3000',
      ...extra,
    });
    for (const [name, enable] of [
      [`${run}-be-1`, 'true'],
      [`${run}-off`, 'false'],
    ] as const)
      runNodeScript({
        run,
        name,
        network,
        labels: labels({ [LB_LABELS.enable]: enable }),
        script: fakeBackend,
      });
    const gid = String(statSync('/var/run/docker.sock').gid);
    const prom = runLabelled({
      run,
      name: `${run}-prom`,
      image: PROMETHEUS_IMAGE,
      network,
      publish: ['127.0.0.1::9090'],
      flags: [
        '--group-add',
        gid,
        '-v',
        `${repoPath('prometheus')}:/etc/prometheus:ro`,
        '-v',
        '/var/run/docker.sock:/var/run/docker.sock:ro',
      ],
      command: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
    });
    prometheusUrl = `http://127.0.0.1:${prom.hostPort(9090)}`;
  });

  afterAll(() => {
    removeRun(run);
    execFileSync('docker', ['network', 'rm', network], { stdio: 'ignore' });
  });

  it('scrapes the labelled container with service and replica labels, as a non-root user', async () => {
    expect(docker('exec', `${run}-prom`, 'id', '-u')).not.toBe('0');
    const up = await waitFor(
      async () => {
        const r = await query(`up{job="headroom-backends",service="${service}"}`);
        return r.length > 0 && r.every((s) => s.value[1] === '1') ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, message: 'backend target up' },
    );
    expect(up).toHaveLength(1);
    expect(up[0]?.metric.replica).toBe(`${run}-be-1`);
    expect(up[0]?.metric.instance).toMatch(/:3000$/);
  });

  it('records the per-replica CPU utilization the autoscaler reads', async () => {
    // 0.25 CPU-s/s on a 0.5-core limit: 0.5 once the rate window is full of samples.
    const series = await waitFor(
      async () => {
        const r = await query(`${RECORDED_SERIES.replicaCpuUtilization}{service="${service}"}`);
        const v = Number(r[0]?.value[1]);
        return r.length === 1 && v > 0.45 && v < 0.55 ? r : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1000, message: 'recorded cpu ratio near 0.5' },
    );
    expect(series[0]?.metric.replica).toBe(`${run}-be-1`);
  });

  it('leaves out containers without lb.enable=true', async () => {
    const targets = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as {
      data: { activeTargets: Array<{ labels: Record<string, string> }> };
    };
    const replicas = targets.data.activeTargets
      .filter((t) => t.labels.service === service)
      .map((t) => t.labels.replica);
    expect(replicas).toEqual([`${run}-be-1`]);
  });
});
