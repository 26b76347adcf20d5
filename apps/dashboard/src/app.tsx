// The dashboard page: polls the balancer, shows backends, traffic, mode, autoscaler and
// Grafana, and sends the few admin actions a person takes from here.
import type { BalancerMode } from '@headroom/shared/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, tokenStore } from './api/client';
import { usePolling } from './api/use-polling';
import { appConfig } from './app-config';
import { AutoscalerPanel } from './features/autoscaler/autoscaler-panel';
import { BackendsTable } from './features/backends/backends-table';
import { BurstButton } from './features/burst/burst-button';
import { TransitionsTimeline } from './features/events/transitions-timeline';
import { GrafanaPanels } from './features/grafana/grafana-panels';
import { ModeSwitch } from './features/mode/mode-switch';
import { ServiceState } from './features/service/service-state';
import { serviceOfBackend } from './features/services/route-label';
import { ServicesPanel } from './features/services/services-panel';
import { ConnectionBanner } from './features/status/connection-banner';
import { TokenPrompt } from './features/status/token-prompt';
import { TrafficCharts } from './features/traffic/traffic-charts';

type Retry = () => Promise<void>;

export function App() {
  const every = appConfig.pollIntervalMs;
  const info = usePolling(api.info, every * 4);
  const backends = usePolling(api.backends, every);
  const history = usePolling(api.history, every);
  const events = usePolling(api.events, every * 2);
  const services = usePolling(api.services, every * 2);
  const [selected, setSelected] = useState<string>();
  const autoscalerOn = info.data?.autoscaler != null;
  const asStatus = usePolling(api.autoscalerStatus, every * 2, autoscalerOn);
  const asDecisions = usePolling(api.autoscalerDecisions, every * 2, autoscalerOn);

  const [pendingMode, setPendingMode] = useState<BalancerMode>();
  const [burning, setBurning] = useState<Record<string, boolean>>({});
  const [authRetry, setAuthRetry] = useState<{ retry: Retry; rejected: boolean }>();
  const [message, setMessage] = useState<string>();

  const run = useCallback(async (action: Retry) => {
    try {
      await action();
      setMessage(undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        const hadToken = tokenStore.get() !== null;
        tokenStore.clear();
        setAuthRetry({ retry: action, rejected: hadToken });
      } else setMessage(err instanceof Error ? err.message : String(err));
    }
  }, []);

  const changeMode = (mode: BalancerMode) =>
    run(async () => {
      setPendingMode(mode);
      try {
        // one service picked: its own mode (PUT /api/services/:name/mode); else every service's
        if (selected === undefined) await api.setMode(mode);
        else await api.setServiceMode(selected, mode);
        services.refresh();
        backends.refresh();
        history.refresh();
      } finally {
        setPendingMode(undefined);
      }
    });

  const toggleCpu = (id: string) =>
    run(async () => {
      const state = await api.toggleCpu(id);
      setBurning((b) => ({ ...b, [id]: state.on }));
    });

  // a reloaded page learns which backends are already burning CPU, once per backend
  const asked = useRef(new Set<string>());
  const ids = (backends.data?.backends ?? []).map((b) => b.id).join('\n');
  useEffect(() => {
    for (const id of ids ? ids.split('\n') : []) {
      if (asked.current.has(id)) continue;
      asked.current.add(id);
      api
        .cpuState(id)
        .then((state) => setBurning((b) => (id in b ? b : { ...b, [id]: state.on })))
        .catch(() => asked.current.delete(id)); // retried on the next poll
    }
  }, [ids]);

  // ADMIN_READS_NEED_TOKEN: the polled reads answer 401 until the token is given; ask once per
  // failed poll (the error a submitted token answers stays on screen until the next poll)
  const readError =
    backends.error instanceof ApiError && backends.error.status === 401 ? backends.error : undefined;
  const handledReadError = useRef<unknown>(undefined);
  const [refreshBackends, refreshHistory, refreshEvents] = [
    backends.refresh,
    history.refresh,
    events.refresh,
  ];
  useEffect(() => {
    if (!readError || authRetry || handledReadError.current === readError) return;
    handledReadError.current = readError;
    const hadToken = tokenStore.get() !== null;
    tokenStore.clear();
    setAuthRetry({
      retry: async () => {
        refreshBackends();
        refreshHistory();
        refreshEvents();
      },
      rejected: hadToken,
    });
  }, [readError, authRetry, refreshBackends, refreshHistory, refreshEvents]);

  const unreachable = backends.error instanceof ApiError && backends.error.status === 0;
  const rows = (history.data?.points ?? []).slice(-appConfig.chartSeconds);
  const all = backends.data?.backends ?? [];
  const list = selected === undefined ? all : all.filter((b) => serviceOfBackend(b) === selected);
  const selectedMode = services.data?.services.find((s) => s.name === selected)?.mode;
  const shownMode = selected === undefined ? backends.data?.mode : selectedMode;
  const healthy = list.filter((b) => b.state === 'healthy').length;

  return (
    <div className="page">
      <header>
        <div>
          <h1>Headroom</h1>
          <span className="subtitle">
            {backends.data
              ? `${healthy}/${list.length} backends healthy · ${info.data?.discovery ?? ''} discovery`
              : 'connecting…'}
          </span>{' '}
          <ServiceState service={backends.data?.service} />
        </div>
        <ModeSwitch mode={shownMode} pending={pendingMode} onChange={(m) => void changeMode(m)} />
      </header>
      <ConnectionBanner unreachable={unreachable} />
      {message ? (
        <div className="banner error" role="status">
          {message}
        </div>
      ) : null}
      {authRetry ? (
        <TokenPrompt
          rejected={authRetry.rejected}
          onCancel={() => setAuthRetry(undefined)}
          onSubmit={(token) => {
            tokenStore.set(token);
            const { retry } = authRetry;
            setAuthRetry(undefined);
            void run(retry);
          }}
        />
      ) : null}

      <section className="card">
        <h2>Services and routes</h2>
        <ServicesPanel services={services.data?.services} selected={selected} onSelect={setSelected} />
      </section>

      <section className="card">
        <div className="card-head">
          <h2>Backends{selected === undefined ? '' : ` of ${selected}`}</h2>
          <BurstButton run={run} />
        </div>
        <div className="backends-with-timeline">
          <div className="table-scroll">
            <BackendsTable backends={list} burning={burning} onToggleCpu={(id) => void toggleCpu(id)} />
          </div>
          <TransitionsTimeline events={events.data?.events} />
        </div>
      </section>

      <section className="card">
        <h2>Traffic</h2>
        <TrafficCharts points={rows} />
      </section>

      <section className="card">
        <h2>Autoscaler</h2>
        <AutoscalerPanel
          configured={autoscalerOn}
          status={asStatus.data}
          decisions={asDecisions.data?.decisions}
          error={asStatus.error instanceof Error ? asStatus.error.message : undefined}
        />
      </section>

      <section className="card">
        <h2>Grafana</h2>
        <GrafanaPanels grafana={info.data?.grafana} />
      </section>
    </div>
  );
}
