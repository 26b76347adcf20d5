// The dashboard's one config module: where the API is, how often to poll, which Grafana
// panels to embed. Components never build URLs themselves.
export const appConfig = {
  /** Admin API base: same origin (the balancer serves the dashboard on its admin port). */
  apiBase: '',
  pollIntervalMs: 1500,
  /** Seconds of history the charts show. */
  chartSeconds: 180,
  /** Panels of grafana/dashboards/headroom-overview.json to embed, by id. */
  grafanaPanels: [
    { panel: 1, title: 'Request rate' },
    { panel: 2, title: 'Latency p50 / p99' },
    { panel: 3, title: 'CPU per backend' },
    { panel: 6, title: 'Traffic share' },
    { panel: 7, title: 'Replicas over time' },
    { panel: 8, title: 'Scale events' },
  ],
} as const;

export function grafanaPanelUrl(base: string, dashboardUid: string, panel: number): string {
  return `${base.replace(/\/+$/, '')}/d-solo/${dashboardUid}/headroom?orgId=1&panelId=${panel}&refresh=5s&from=now-15m&to=now&theme=light`;
}
