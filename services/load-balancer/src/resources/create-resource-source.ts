// METRICS_SOURCE → the resource source(s) that feed resource-aware mode.
import type { LoadBalancerConfig, Logger } from '@headroom/shared';
import type { BackendSet } from '../discovery/backend-set.js';
import { dockerClient } from '../discovery/docker-source.js';
import type { EngineApi } from '../discovery/engine-api.js';
import { parseEngineAddress } from '../discovery/multi-engine-source.js';
import { BackendMetricsSource } from './backend-metrics-source.js';
import { DockerStatsSource, type EngineOf } from './docker-stats-source.js';
import { PrometheusSource } from './prometheus-source.js';
import type { PublishSample, ResourceSource } from './resource-sample.js';

class Combined implements ResourceSource {
  constructor(private readonly parts: ResourceSource[]) {}
  update(set: BackendSet): void {
    for (const p of this.parts) p.update(set);
  }
  async stop(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.stop()));
  }
}

/**
 * Which engine to ask a container's stats of: with DOCKER_HOSTS, the one discovery found it
 * on (the spec's `engine`, one client per engine); otherwise the one engine.
 */
export function statsEngines(config: LoadBalancerConfig, docker?: EngineApi): EngineOf {
  if (config.DOCKER_HOSTS.length === 0) {
    const one = docker ?? dockerClient(config);
    return () => one;
  }
  const byId = new Map(config.DOCKER_HOSTS.map((h) => [h, parseEngineAddress(h).docker]));
  // a container without an engine did not come from DOCKER_HOSTS discovery: the local engine
  let local: EngineApi | undefined = docker;
  return (spec) => {
    if (spec.engine !== undefined) return byId.get(spec.engine);
    local ??= dockerClient(config);
    return local;
  };
}

export function createResourceSource(
  config: LoadBalancerConfig,
  logger: Logger,
  publish: PublishSample,
  docker?: EngineApi,
): ResourceSource {
  const interval = config.METRICS_INTERVAL_MS;
  switch (config.METRICS_SOURCE) {
    case 'none':
      return new Combined([]);
    case 'docker':
      return new DockerStatsSource(statsEngines(config, docker), publish, logger);
    case 'backend':
      return new BackendMetricsSource(publish, logger, interval);
    case 'prometheus':
      if (!config.PROMETHEUS_URL) throw new Error('METRICS_SOURCE=prometheus needs PROMETHEUS_URL');
      return new PrometheusSource(
        config.PROMETHEUS_URL,
        config.PROMQL_CPU,
        config.PROMQL_MEMORY,
        publish,
        logger,
        interval,
      );
    case 'auto':
      // containers: their stats stream; everything else: the backend's own /metrics
      return new Combined([
        new DockerStatsSource(statsEngines(config, docker), publish, logger),
        new BackendMetricsSource(publish, logger, interval, (s) => s.containerId === undefined),
      ]);
  }
}
