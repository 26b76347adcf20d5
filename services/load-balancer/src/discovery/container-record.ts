// The few facts discovery reads from a container (inspect), so nothing downstream sees a
// Docker SDK type.
export interface ContainerRecord {
  id: string;
  name: string;
  running: boolean;
  labels: Record<string, string>;
  /** Exposed container ports ("3000/tcp" → 3000). */
  exposedPorts: number[];
  /** network name → container IP on it. */
  networks: Record<string, string>;
  /** container port → host port published on the host (tcp). */
  published: Record<number, number>;
  nanoCpus: number;
  cpuQuota: number;
  cpuPeriod: number;
  memoryBytes: number;
  health: string | undefined;
}

/** Translates dockerode's inspect output. */
export function recordFromInspect(info: {
  Id: string;
  Name: string;
  State?: { Running?: boolean; Health?: { Status?: string } };
  Config?: { Labels?: Record<string, string> | null; ExposedPorts?: Record<string, unknown> | null };
  NetworkSettings?: {
    Networks?: Record<string, { IPAddress?: string }> | null;
    Ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
  };
  HostConfig?: { NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number; Memory?: number };
}): ContainerRecord {
  const exposedPorts: number[] = [];
  for (const key of Object.keys(info.Config?.ExposedPorts ?? {})) {
    const [port, proto] = key.split('/');
    if ((proto ?? 'tcp') === 'tcp' && port) exposedPorts.push(Number(port));
  }
  const networks: Record<string, string> = {};
  for (const [name, net] of Object.entries(info.NetworkSettings?.Networks ?? {})) {
    if (net.IPAddress) networks[name] = net.IPAddress;
  }
  const published: Record<number, number> = {};
  for (const [key, bindings] of Object.entries(info.NetworkSettings?.Ports ?? {})) {
    const [port, proto] = key.split('/');
    const hostPort = bindings?.find((b) => b.HostPort)?.HostPort;
    if ((proto ?? 'tcp') === 'tcp' && port && hostPort) published[Number(port)] = Number(hostPort);
  }
  return {
    id: info.Id,
    name: info.Name.replace(/^\//, ''),
    running: info.State?.Running === true,
    labels: info.Config?.Labels ?? {},
    exposedPorts,
    networks,
    published,
    nanoCpus: info.HostConfig?.NanoCpus ?? 0,
    cpuQuota: info.HostConfig?.CpuQuota ?? 0,
    cpuPeriod: info.HostConfig?.CpuPeriod ?? 0,
    memoryBytes: info.HostConfig?.Memory ?? 0,
    health: info.State?.Health?.Status,
  };
}
