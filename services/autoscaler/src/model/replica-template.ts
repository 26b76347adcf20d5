// Pure: how a new replica looks. Copied from an existing replica of the service (image,
// command, env, labels, networks, limits) or built from REPLICA_* settings; then named
// <service>-<n> and labelled as ours. One code path for names and labels.
import { LB_LABELS, OWNER_LABELS, OWNER_VALUE, replicaIndex, replicaName } from '@headroom/shared';
import type Docker from 'dockerode';

export interface ReplicaTemplate {
  image: string;
  cmd?: string[] | undefined;
  entrypoint?: string[] | undefined;
  env: string[];
  labels: Record<string, string>;
  workingDir?: string | undefined;
  user?: string | undefined;
  exposedPorts?: Record<string, object> | undefined;
  healthcheck?: Docker.ContainerInspectInfo['Config']['Healthcheck'] | undefined;
  stopSignal?: string | undefined;
  /** Container ports the template published: replicas publish them too, on ephemeral host ports. */
  publishedPorts: string[];
  nanoCpus: number;
  memory: number;
  binds?: string[] | undefined;
  readonlyRootfs?: boolean | undefined;
  init?: boolean | undefined;
  /** First network is the primary (NetworkMode); the others are connected before start. */
  networks: string[];
  /** Where it came from, for logs and the status. */
  source: string;
  /** The engine the template container runs on: replicas elsewhere get that engine's networks and published ports. */
  host?: string | undefined;
}

/** Labels other orchestrators put on their containers: copying them would make compose or Swarm claim our replicas. */
const FOREIGN_LABEL_PREFIXES = [
  'com.docker.compose.',
  'com.docker.stack.',
  'com.docker.swarm.',
  'desktop.docker.io',
];

const BUILTIN_NETWORKS = new Set(['bridge', 'host', 'none', 'default']);

export function ownerLabels(service: string, n: number): Record<string, string> {
  return {
    [OWNER_LABELS.managedBy]: OWNER_VALUE,
    [OWNER_LABELS.service]: service,
    [OWNER_LABELS.replica]: String(n),
  };
}

export function isOwned(labels: Record<string, string> | undefined, service: string): boolean {
  return labels?.[OWNER_LABELS.managedBy] === OWNER_VALUE && labels?.[OWNER_LABELS.service] === service;
}

type InspectLike = Pick<Docker.ContainerInspectInfo, 'Name' | 'Config' | 'HostConfig' | 'NetworkSettings'>;

export function templateFromContainer(c: InspectLike): ReplicaTemplate {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.Config.Labels ?? {})) {
    if (FOREIGN_LABEL_PREFIXES.some((p) => k.startsWith(p))) continue;
    if (Object.values(OWNER_LABELS).includes(k as never)) continue;
    labels[k] = v;
  }
  const hc = c.HostConfig;
  const nanoCpus =
    hc.NanoCpus && hc.NanoCpus > 0
      ? hc.NanoCpus
      : hc.CpuQuota && hc.CpuPeriod
        ? Math.round((hc.CpuQuota / hc.CpuPeriod) * 1e9)
        : 0;
  const networks = Object.keys(c.NetworkSettings?.Networks ?? {});
  const mode = hc.NetworkMode;
  if (mode && mode !== 'default' && !mode.startsWith('container:') && !networks.includes(mode))
    networks.unshift(mode);
  else if (mode && networks.includes(mode))
    networks.splice(0, 0, ...networks.splice(networks.indexOf(mode), 1));
  return {
    image: c.Config.Image,
    cmd: c.Config.Cmd ?? undefined,
    entrypoint: (c.Config.Entrypoint as string[] | null | undefined) ?? undefined,
    env: c.Config.Env ?? [],
    labels,
    workingDir: c.Config.WorkingDir || undefined,
    user: c.Config.User || undefined,
    exposedPorts: c.Config.ExposedPorts ?? undefined,
    healthcheck: c.Config.Healthcheck ?? undefined,
    stopSignal: (c.Config as { StopSignal?: string }).StopSignal,
    publishedPorts: Object.keys(hc.PortBindings ?? {}),
    nanoCpus,
    memory: hc.Memory ?? 0,
    binds: hc.Binds ?? undefined,
    readonlyRootfs: hc.ReadonlyRootfs ?? undefined,
    init: (hc as { Init?: boolean }).Init ?? undefined,
    networks,
    source: `container ${c.Name.replace(/^\//, '')}`,
  };
}

export interface FallbackSettings {
  image?: string | undefined;
  network?: string | undefined;
  cpus?: number | undefined;
  memoryMb?: number | undefined;
  port?: number | undefined;
}

export function templateFromSettings(service: string, s: FallbackSettings): ReplicaTemplate | undefined {
  if (!s.image) return undefined;
  const labels: Record<string, string> = { [LB_LABELS.enable]: 'true', [LB_LABELS.service]: service };
  if (s.port !== undefined) labels[LB_LABELS.port] = String(s.port);
  return {
    image: s.image,
    env: [],
    labels,
    publishedPorts: [],
    nanoCpus: s.cpus !== undefined ? Math.round(s.cpus * 1e9) : 0,
    memory: s.memoryMb !== undefined ? s.memoryMb * 1024 * 1024 : 0,
    networks: s.network ? [s.network] : [],
    source: 'REPLICA_IMAGE settings',
  };
}

/** What a replica placed on one engine gets instead of the template's values: that engine's networks and ports. */
export interface EngineOverrides {
  networks?: string[] | undefined;
  publishedPorts?: string[] | undefined;
}

/**
 * Pure: the template's networks that exist on the target engine, in the template's order (the
 * first left becomes the primary), and the ones it lacks. A network name is one engine's: on
 * another engine the same name may not exist (a standalone engine's bridge network) or be
 * another network; an overlay of a Swarm exists on every node that joined it.
 */
export function resolveNetworks(
  wanted: readonly string[],
  onEngine: ReadonlySet<string>,
): { networks: string[]; missing: string[] } {
  const networks: string[] = [];
  const missing: string[] = [];
  for (const n of wanted) (BUILTIN_NETWORKS.has(n) || onEngine.has(n) ? networks : missing).push(n);
  return { networks, missing };
}

/**
 * Pure: the container ports a replica on another engine than its template's publishes. The
 * template's own published ports when it has any; otherwise its lb.port (or its single exposed
 * port): a balancer on another host reaches a replica only at its engine's address, through a
 * published port.
 */
export function portsToPublish(t: ReplicaTemplate, sameEngineAsTemplate: boolean): string[] {
  if (t.publishedPorts.length > 0 || sameEngineAsTemplate) return t.publishedPorts;
  const lbPort = t.labels[LB_LABELS.port];
  if (lbPort && /^\d+$/.test(lbPort)) return [`${lbPort}/tcp`];
  const exposed = Object.keys(t.exposedPorts ?? {}).filter((p) => p.endsWith('/tcp'));
  return exposed.length === 1 ? exposed : [];
}

/** The create body of replica n. The hostname (and INSTANCE_ID when the template sets one) become its name. */
export function createOptions(
  t: ReplicaTemplate,
  service: string,
  n: number,
  overrides: EngineOverrides = {},
): Docker.ContainerCreateOptions {
  const name = replicaName(service, n);
  const env = t.env.map((e) => (e.startsWith('INSTANCE_ID=') ? `INSTANCE_ID=${name}` : e));
  const published = overrides.publishedPorts ?? t.publishedPorts;
  const portBindings: Record<string, { HostPort: string }[]> = {};
  for (const p of published) portBindings[p] = [{ HostPort: '' }];
  const networks = overrides.networks ?? t.networks;
  const primary = networks[0];
  return {
    name,
    Hostname: name,
    Image: t.image,
    Cmd: t.cmd,
    Entrypoint: t.entrypoint,
    Env: env,
    WorkingDir: t.workingDir,
    User: t.user,
    // a published port must be exposed too
    ExposedPorts:
      published.length > 0
        ? { ...(t.exposedPorts ?? {}), ...Object.fromEntries(published.map((p) => [p, {}])) }
        : t.exposedPorts,
    Healthcheck: t.healthcheck,
    StopSignal: t.stopSignal,
    Labels: { ...t.labels, [LB_LABELS.service]: service, ...ownerLabels(service, n) },
    HostConfig: {
      NanoCpus: t.nanoCpus > 0 ? t.nanoCpus : undefined,
      Memory: t.memory > 0 ? t.memory : undefined,
      PortBindings: published.length > 0 ? portBindings : undefined,
      Binds: t.binds,
      ReadonlyRootfs: t.readonlyRootfs,
      Init: t.init,
      NetworkMode: primary,
    },
    // Docker allows network-scoped aliases only on user-defined networks.
    NetworkingConfig:
      primary && !BUILTIN_NETWORKS.has(primary)
        ? { EndpointsConfig: { [primary]: { Aliases: [name] } } }
        : undefined,
  };
}

/** Lowest n ≥ 1 whose name `<service>-<n>` no container on any engine uses. */
export function lowestFreeIndex(service: string, names: Iterable<string>): number {
  const used = new Set<number>();
  for (const name of names) {
    const n = replicaIndex(service, name);
    if (n !== undefined) used.add(n);
  }
  let n = 1;
  while (used.has(n)) n++;
  return n;
}
