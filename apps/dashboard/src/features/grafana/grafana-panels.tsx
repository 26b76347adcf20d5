// Grafana panels embedded by iframe, or how to enable them.
import { appConfig, grafanaPanelUrl } from '../../app-config';

export function GrafanaPanels({
  grafana,
}: {
  grafana: { url: string; dashboardUid: string } | null | undefined;
}) {
  if (!grafana) {
    return (
      <p className="note" data-testid="no-grafana">
        Grafana is not configured. Set <code>GRAFANA_URL</code> (and <code>GRAFANA_DASHBOARD_UID</code>,
        default <code>headroom-overview</code>) on the balancer; the compose stack in <code>deploy/</code>{' '}
        does this for you.
      </p>
    );
  }
  return (
    <div className="grafana">
      {appConfig.grafanaPanels.map((p) => (
        <iframe
          key={p.panel}
          title={p.title}
          src={grafanaPanelUrl(grafana.url, grafana.dashboardUid, p.panel)}
        />
      ))}
    </div>
  );
}
