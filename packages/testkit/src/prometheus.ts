// A real Prometheus (/usr/bin/prometheus, Debian's package) for integration tests: a
// generated config, temporary storage, a free loopback port; stopped and removed after.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LB_LABELS, METRIC_LABELS } from '@headroom/shared';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const PROMTOOL_BIN = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';

export interface StartPrometheusOptions {
  /** YAML of the `scrape_configs:` list items (indented two spaces), e.g. from a test. */
  scrapeConfigsYaml?: string;
  /** Instead: a whole prometheus.yml as given (files it names may be written into `dir` first). */
  config?: (dir: string) => string;
  /** Rule files' YAML contents, written next to the config and listed in `rule_files`. */
  rules?: string[];
  scrapeIntervalSeconds?: number;
  evaluationIntervalSeconds?: number;
}

export interface RunningPrometheus {
  url: string;
  port: number;
  dir: string;
  output(): string;
  stop(): Promise<void>;
  /** Stops the process only (SIGTERM), keeping its port and storage: Prometheus gone, as in an outage. */
  halt(): Promise<void>;
  /** Starts it again after halt(), on the same port with the same storage, and waits until ready. */
  restart(): Promise<void>;
  /** Instant query; returns the parsed `data.result`. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'headroom-prom-'));
  const port = await freePort();
  const ruleFiles = (opts.rules ?? []).map((content, i) => {
    const file = join(dir, `rules-${i}.yml`);
    writeFileSync(file, content);
    return file;
  });
  const scrape = opts.scrapeIntervalSeconds ?? 1;
  const config =
    opts.config?.(dir) ??
    [
      'global:',
      `  scrape_interval: ${scrape}s`,
      `  scrape_timeout: ${Math.round(Math.max(0.5, scrape * 0.8) * 1000)}ms`,
      `  evaluation_interval: ${opts.evaluationIntervalSeconds ?? scrape}s`,
      ruleFiles.length > 0 ? `rule_files:\n${ruleFiles.map((f) => `  - ${f}`).join('\n')}` : '',
      'scrape_configs:',
      opts.scrapeConfigsYaml ?? '',
    ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  let out = '';
  let child: ChildProcess;
  let exited: Promise<void>;
  const launch = () => {
    child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const c = child;
    exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
  };
  const url = `http://127.0.0.1:${port}`;
  const halt = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  };
  const stop = async () => {
    await halt();
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = () =>
    waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited: ${out.slice(-2000)}`);
        return (await fetch(`${url}/-/ready`)).ok;
      },
      { timeoutMs: 30_000, message: 'prometheus ready' },
    );
  launch();
  try {
    await ready();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    port,
    dir,
    output: () => out,
    stop,
    halt,
    async restart() {
      await halt();
      launch();
      await ready();
    },
    async query(promql) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: [] } };
      if (body.status !== 'success') throw new Error(`query failed: ${body.error}`);
      return body.data?.result ?? [];
    },
  };
}

/**
 * scrape_configs entry: Docker service discovery of one service's containers (lb.service),
 * labelled `service` and `replica` as prometheus/prometheus.yml labels them.
 */
export function dockerSdScrapeConfig(service: string, refreshSeconds = 1): string {
  const meta = (label: string) => `__meta_docker_container_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;
  return `
  - job_name: replicas
    docker_sd_configs:
      - host: unix:///var/run/docker.sock
        refresh_interval: ${refreshSeconds}s
        port: 3000
        filters:
          - name: label
            values: ["${LB_LABELS.service}=${service}"]
    relabel_configs:
      - source_labels: [${meta(LB_LABELS.service)}]
        target_label: ${METRIC_LABELS.service}
      - source_labels: [__meta_docker_container_name]
        regex: /?(.*)
        target_label: ${METRIC_LABELS.replica}
`;
}
