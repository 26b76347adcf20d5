// The few read-only Docker Engine API calls the balancer makes (list, inspect, events, stats,
// and the Swarm service/task/node lists), spoken over the undici the proxy already loads.
// Why not dockerode here: importing it loads ssh2 (whose WebAssembly crypto reserves 16 MiB)
// and gRPC/protobuf for BuildKit sessions: 16 MiB more external memory and 5 MiB more heap, measured in a process whose
// budget on an edge box is ~70 MiB, for six GET endpoints (docs/benchmarks.md, "Footprint").
// The autoscaler, which creates and starts containers, keeps dockerode. The response types are
// dockerode's (@types/dockerode, types only: nothing of it is loaded at run time), so a dockerode
// instance still satisfies EngineApi (the tests that drive the sources with one).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { Pool } from 'undici';
import { ENGINE_API_ERROR_CODE } from '../errors.js';

export type EngineFilters = Record<string, string[]>;

/** The subset of the Docker Engine API the balancer's discovery and stats sources call. */
export interface EngineApi {
  listContainers(opts?: { all?: boolean; filters?: EngineFilters }): Promise<Docker.ContainerInfo[]>;
  getContainer(id: string): {
    inspect(): Promise<Docker.ContainerInspectInfo>;
    stats(opts: { stream: true }): Promise<NodeJS.ReadableStream>;
  };
  getEvents(opts?: { filters?: EngineFilters }): Promise<NodeJS.ReadableStream>;
  listServices(opts?: { filters?: EngineFilters }): Promise<Docker.Service[]>;
  // biome-ignore lint/suspicious/noExplicitAny: dockerode types tasks and nodes as any
  listTasks(): Promise<any[]>;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  listNodes(): Promise<any[]>;
}

/** What a non-2xx answer throws: the engine's own message, and its status (404: gone). */
export class EngineApiError extends Error {
  readonly code = ENGINE_API_ERROR_CODE;
  constructor(
    readonly statusCode: number,
    message: string,
    readonly path: string,
  ) {
    super(`(HTTP ${statusCode}) ${message}`);
    this.name = 'EngineApiError';
  }
}

export interface EngineTarget {
  /** unix socket path; else host + port. */
  socketPath?: string | undefined;
  host?: string | undefined;
  port?: number | string | undefined;
  protocol?: 'http' | 'https' | undefined;
  /** Per call (not for streams): connect, headers and body. */
  timeoutMs?: number | undefined;
  /** TLS material for https (DOCKER_CERT_PATH). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined;
}

/** Pure: DOCKER_HOST (unix:///path, tcp://host:port) → a target; DOCKER_TLS_VERIFY makes tcp https. */
export function targetFromDockerHost(
  dockerHost: string,
  env: Record<string, string | undefined> = process.env,
): EngineTarget {
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (!/^(tcp|http|https):\/\//.test(dockerHost))
    throw new Error(`DOCKER_HOST="${dockerHost}": the balancer reaches engines at unix:// or tcp:// only`);
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  const tlsOn = url.protocol === 'https:' || (env.DOCKER_TLS_VERIFY ?? '') !== '';
  const certs = env.DOCKER_CERT_PATH;
  const read = (f: string) => (certs ? readFileSync(join(certs, f)) : undefined);
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (tlsOn ? 2376 : 2375),
    protocol: tlsOn ? 'https' : 'http',
    tls: tlsOn && certs ? { ca: read('ca.pem')!, cert: read('cert.pem')!, key: read('key.pem')! } : undefined,
  };
}

function query(params: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    parts.push(`${k}=${encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : String(v))}`);
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

export class EngineClient implements EngineApi {
  private readonly client: Pool;
  private readonly timeoutMs: number;

  constructor(target: EngineTarget) {
    this.timeoutMs = target.timeoutMs ?? 10_000;
    const origin = target.socketPath
      ? 'http://localhost'
      : `${target.protocol ?? 'http'}://${target.host?.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    // A pool with no connection cap: every events or stats stream holds a connection for as
    // long as it is open, and a list or inspect must never queue behind one.
    this.client = new Pool(origin, {
      connections: null,
      socketPath: target.socketPath,
      connect: { timeout: this.timeoutMs, ...(target.tls ?? {}) },
      bodyTimeout: 0,
      headersTimeout: this.timeoutMs,
    });
  }

  private async json<T>(path: string): Promise<T> {
    const res = await this.client.request({
      path,
      method: 'GET',
      bodyTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new EngineApiError(res.statusCode, messageOf(text), path);
    return JSON.parse(text) as T;
  }

  private async stream(path: string): Promise<NodeJS.ReadableStream> {
    const res = await this.client.request({ path, method: 'GET', bodyTimeout: 0 });
    if (res.statusCode >= 300) {
      throw new EngineApiError(res.statusCode, messageOf(await res.body.text()), path);
    }
    return res.body;
  }

  listContainers(opts: { all?: boolean; filters?: EngineFilters } = {}): Promise<Docker.ContainerInfo[]> {
    return this.json(`/containers/json${query({ all: opts.all, filters: opts.filters })}`);
  }

  getContainer(id: string) {
    const at = `/containers/${encodeURIComponent(id)}`;
    return {
      inspect: () => this.json<Docker.ContainerInspectInfo>(`${at}/json`),
      stats: (_opts: { stream: true }) => this.stream(`${at}/stats?stream=true`),
    };
  }

  getEvents(opts: { filters?: EngineFilters } = {}): Promise<NodeJS.ReadableStream> {
    return this.stream(`/events${query({ filters: opts.filters })}`);
  }

  listServices(opts: { filters?: EngineFilters } = {}): Promise<Docker.Service[]> {
    return this.json(`/services${query({ filters: opts.filters })}`);
  }

  // biome-ignore lint/suspicious/noExplicitAny: dockerode's types, kept for compatibility
  listTasks(): Promise<any[]> {
    return this.json('/tasks');
  }

  // biome-ignore lint/suspicious/noExplicitAny: as above
  listNodes(): Promise<any[]> {
    return this.json('/nodes');
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function messageOf(body: string): string {
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON: the raw text says it
  }
  return body.slice(0, 500) || 'no message';
}
