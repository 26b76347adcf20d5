// The provisioned Grafana dashboard read as data: panel ids unique and the ones the dashboard
// app embeds present, every datasource provisioned, every PromQL name one the project defines.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import {
  AUTOSCALER_METRICS,
  BACKEND_METRICS,
  LB_METRICS,
  METRIC_LABELS,
  RECORDED_SERIES,
} from '@headroom/shared';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { promqlMetricNames, withHistogramSeries } from './promql-metric-names.js';
import { repoPath } from './repo-files.js';

interface Panel {
  id: number;
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
}

const dashboardFile = repoPath('grafana/dashboards/headroom-overview.json');
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: {
    list: Array<{ name: string; type: string; query: { query: string } | string; includeAll?: boolean }>;
  };
};

const datasourceDir = repoPath('grafana/provisioning/datasources');
const provisionedUids = readdirSync(datasourceDir).flatMap((f) => {
  const doc = parse(readFileSync(`${datasourceDir}/${f}`, 'utf8')) as { datasources: Array<{ uid: string }> };
  return doc.datasources.map((d) => d.uid);
});

/** Series of exporters the stack runs, allowed in queries besides the project's own names. */
const EXPORTER_METRICS = new Set([
  'up',
  // prom-client default metrics of the backend
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  // cAdvisor and node-exporter
  'container_cpu_usage_seconds_total',
  'container_memory_working_set_bytes',
  'node_cpu_seconds_total',
  'node_memory_MemAvailable_bytes',
  'node_memory_MemTotal_bytes',
]);

const KNOWN_METRICS = new Set([
  ...withHistogramSeries([
    ...Object.values(BACKEND_METRICS),
    ...Object.values(LB_METRICS),
    ...Object.values(AUTOSCALER_METRICS),
  ]),
  ...Object.values(RECORDED_SERIES),
  ...EXPORTER_METRICS,
]);

/** Panel ids the dashboard app embeds: `panelId: <n>` (or `panel: <n>`) entries in its config. */
function embeddedPanelIds(): number[] {
  const file = repoPath('apps/dashboard/src/app-config.ts');
  if (!existsSync(file))
    throw new Error(`${file} is missing: the dashboard app names the panels it embeds there`);
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/\bpanel(?:Id)?\s*:\s*(\d+)/g)].map((m) => Number(m[1]));
}

describe('grafana/dashboards/headroom-overview.json', () => {
  it('has the uid the balancer embeds by default and unique panel ids', () => {
    expect(dashboard.uid).toBe('headroom-overview');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
  });

  it('has every panel the dashboard app embeds', () => {
    const ids = new Set(dashboard.panels.map((p) => p.id));
    const wanted = embeddedPanelIds();
    expect(wanted.length).toBeGreaterThan(0);
    expect(wanted.filter((id) => !ids.has(id))).toEqual([]);
  });

  it('has the titles the dashboard app shows for the panels it embeds', () => {
    const src = readFileSync(repoPath('apps/dashboard/src/app-config.ts'), 'utf8');
    const titled = [...src.matchAll(/\bpanel(?:Id)?\s*:\s*(\d+)\s*,\s*title\s*:\s*'([^']*)'/g)];
    for (const [, id, title] of titled) {
      expect(dashboard.panels.find((p) => p.id === Number(id))?.title, `panel ${id}`).toBe(title);
    }
  });

  it('uses only provisioned datasources', () => {
    expect(provisionedUids.length).toBeGreaterThan(0);
    for (const panel of dashboard.panels) {
      const uids = [panel.datasource?.uid, ...(panel.targets ?? []).map((t) => t.datasource?.uid)];
      for (const uid of uids) expect(provisionedUids, `panel ${panel.id} "${panel.title}"`).toContain(uid);
    }
  });

  it('queries only metric names the project or its exporters define', () => {
    for (const panel of dashboard.panels) {
      expect(panel.targets?.length, `panel ${panel.id} has queries`).toBeGreaterThan(0);
      for (const t of panel.targets ?? []) {
        const unknown = promqlMetricNames(t.expr).filter((n) => !KNOWN_METRICS.has(n));
        expect(unknown, `panel ${panel.id}: ${t.expr}`).toEqual([]);
      }
    }
  });
});

// One balancer fronts many services (issue #24): every panel over a series that carries the
// `service` label is filtered by the dashboard's `service` variable, so a user looks at one app.
describe('the service variable', () => {
  const variable = dashboard.templating.list.find((v) => v.name === METRIC_LABELS.service);

  it('is a query over the services the balancer reports, with All', () => {
    expect(variable?.type).toBe('query');
    const q = typeof variable?.query === 'string' ? variable.query : variable?.query.query;
    expect(q).toMatch(new RegExp(`label_values\\(${LB_METRICS.requests}, ${METRIC_LABELS.service}\\)`));
    expect(variable?.includeAll).toBe(true);
  });

  it('filters every query over a per-service series', () => {
    const perService = new Set([
      ...withHistogramSeries([LB_METRICS.requests, LB_METRICS.requestDuration, LB_METRICS.backendScore]),
      AUTOSCALER_METRICS.currentReplicas,
      AUTOSCALER_METRICS.readyReplicas,
      AUTOSCALER_METRICS.desiredReplicas,
      AUTOSCALER_METRICS.scaleEvents,
      ...Object.values(RECORDED_SERIES),
      'process_resident_memory_bytes',
      BACKEND_METRICS.memoryLimit,
    ]);
    const unfiltered: string[] = [];
    for (const panel of dashboard.panels) {
      for (const t of panel.targets ?? []) {
        for (const name of promqlMetricNames(t.expr).filter((n) => perService.has(n))) {
          const selector = new RegExp(`${name.replace(/[:.]/g, '\\$&')}\\{[^}]*service=~"\\$service"`);
          if (!selector.test(t.expr)) unfiltered.push(`panel ${panel.id}: ${name} in ${t.expr}`);
        }
      }
    }
    expect(unfiltered).toEqual([]);
  });
});

describe('prometheus/rules/headroom.rules.yml', () => {
  it('reads only metric names the project or its exporters define', () => {
    const doc = parse(readFileSync(repoPath('prometheus/rules/headroom.rules.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ expr: string; record?: string }> }>;
    };
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const unknown = promqlMetricNames(rule.expr).filter((n) => !KNOWN_METRICS.has(n));
      expect(unknown, `${rule.record}: ${rule.expr}`).toEqual([]);
    }
  });
});
