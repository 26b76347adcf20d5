// Environment for one isolated run of the compose stack in tests: its own project, network,
// service name (so replica names do not collide), free host ports and a random admin token.
import { randomBytes } from 'node:crypto';
import { freePort } from '@headroom/testkit';

export interface StackEnv {
  project: string;
  service: string;
  network: string;
  token: string;
  ports: {
    proxy: number;
    tls: number;
    admin: number;
    autoscaler: number;
    prometheus: number;
    grafana: number;
  };
  env: Record<string, string>;
}

export async function stackEnv(overrides: Record<string, string> = {}): Promise<StackEnv> {
  const id = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const project = `hre2e${id}`;
  const service = `e2e${id}`;
  const network = `hr-${project}`;
  const token = randomBytes(24).toString('hex');
  const ports = {
    proxy: await freePort(),
    tls: await freePort(),
    admin: await freePort(),
    autoscaler: await freePort(),
    prometheus: await freePort(),
    grafana: await freePort(),
  };
  const env: Record<string, string> = {
    COMPOSE_PROJECT_NAME: project,
    STACK_NAME: project,
    ADMIN_TOKEN: token,
    GRAFANA_ADMIN_PASSWORD: randomBytes(8).toString('hex'),
    HEADROOM_NETWORK: network,
    BACKEND_SERVICE: service,
    PROXY_PORT: String(ports.proxy),
    PROXY_TLS_PORT: String(ports.tls),
    ADMIN_PORT: String(ports.admin),
    AUTOSCALER_PORT: String(ports.autoscaler),
    PROMETHEUS_PORT: String(ports.prometheus),
    GRAFANA_PORT: String(ports.grafana),
    PROMETHEUS_IMAGE: 'headroom/prometheus:local',
    NODE_EXPORTER_IMAGE: 'headroom/node-exporter:local',
    LOG_LEVEL: 'warn',
    ...overrides,
  };
  return { project, service, network, token, ports, env };
}
