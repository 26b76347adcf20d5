// promtool on the checked-in Prometheus files: both scrape configs (they load the rules
// file) and the rules, and the discovery relabelling the autoscaler's queries depend on.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { METRIC_LABELS } from '@headroom/shared';
import { PROMTOOL_BIN } from '@headroom/testkit';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoPath } from '../src/repo-files.js';

function promtool(...args: string[]): string {
  return execFileSync(PROMTOOL_BIN, args, { encoding: 'utf8' });
}

interface ScrapeConfig {
  job_name: string;
  docker_sd_configs?: unknown[];
  dockerswarm_sd_configs?: Array<{ role: string }>;
  relabel_configs?: Array<{ target_label?: string }>;
}

const jobsOf = (file: string) =>
  (parse(readFileSync(repoPath(file), 'utf8')) as { scrape_configs: ScrapeConfig[] }).scrape_configs;

describe('prometheus/', () => {
  it.each(['prometheus/prometheus.yml', 'prometheus/prometheus-swarm.yml'])(
    'promtool check config %s (with its rule files)',
    (file) => {
      const out = promtool('check', 'config', repoPath(file));
      expect(out).toContain('is valid prometheus config file syntax');
      expect(out).toContain('SUCCESS: 1 rule files found');
    },
  );

  it('promtool check rules prometheus/rules/headroom.rules.yml', () => {
    expect(promtool('check', 'rules', repoPath('prometheus/rules/headroom.rules.yml'))).toContain('SUCCESS');
  });

  it('finds backends through discovery and labels them as the recording rules expect', () => {
    for (const [file, sd] of [
      ['prometheus/prometheus.yml', 'docker_sd_configs'],
      ['prometheus/prometheus-swarm.yml', 'dockerswarm_sd_configs'],
    ] as const) {
      const jobs = jobsOf(file);
      const backends = jobs.find((j) => j.job_name === 'headroom-backends');
      expect(backends?.[sd], `${file}: headroom-backends uses ${sd}`).toBeDefined();
      const targets = (backends?.relabel_configs ?? []).map((r) => r.target_label);
      expect(targets).toContain(METRIC_LABELS.service);
      expect(targets).toContain(METRIC_LABELS.replica);
      expect(jobs.map((j) => j.job_name)).toEqual(
        expect.arrayContaining([
          'headroom-backends',
          'headroom-balancer',
          'headroom-autoscaler',
          'node-exporter',
        ]),
      );
    }
  });

  // docs/deploy.md says the balancer, the autoscaler and node-exporter on a Swarm are each
  // labelled with their node: every task-discovered job but the backends' must set it.
  it('labels every Swarm job of the stack with its node', () => {
    for (const job of jobsOf('prometheus/prometheus-swarm.yml')) {
      if (!job.dockerswarm_sd_configs || job.job_name === 'headroom-backends') continue;
      const targets = (job.relabel_configs ?? []).map((r) => r.target_label);
      expect(targets, `${job.job_name} sets node`).toContain('node');
    }
  });
});
