// Which replicas exist and which of them are ready: the runtime's records plus readiness
// from (in order) the runtime itself, the container's Docker HEALTHCHECK, the balancer's
// view of it, or a direct probe of its health URL.
import { request } from 'undici';
import type { ReplicaRecord } from '../model/replica.js';

export interface CensusReplica extends ReplicaRecord {
  ready: boolean;
}

export interface Census {
  replicas: CensusReplica[];
  /** Replicas that exist and are not dead: the policy's `current`. */
  current: number;
  ready: number;
  owned: number;
}

/** What the balancer says about a backend id: 'healthy' | 'unhealthy' | 'draining', or absent. */
export type BalancerView = ReadonlyMap<string, string>;

/** Pure: readiness that needs no probe, or undefined when a probe must tell. */
export function knownReadiness(r: ReplicaRecord, balancer: BalancerView | undefined): boolean | undefined {
  if (r.state !== 'running') return false;
  if (r.ready !== undefined) return r.ready;
  if (r.health !== undefined) return r.health === 'healthy';
  const seen = r.backendId !== undefined ? balancer?.get(r.backendId) : undefined;
  if (seen !== undefined) return seen === 'healthy';
  if (r.healthUrl === undefined) return true;
  return undefined;
}

export function summarize(replicas: CensusReplica[]): Census {
  let current = 0;
  let ready = 0;
  let owned = 0;
  for (const r of replicas) {
    if (r.state === 'exited') continue;
    current++;
    if (r.ready) ready++;
    if (r.owned) owned++;
  }
  return { replicas, current, ready, owned };
}

export async function probeHealth(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const res = await request(url, {
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300;
  } catch {
    return false;
  }
}

export async function takeCensus(
  records: readonly ReplicaRecord[],
  balancer: BalancerView | undefined,
  probe: (url: string) => Promise<boolean> = probeHealth,
): Promise<Census> {
  const replicas = await Promise.all(
    records.map(async (r): Promise<CensusReplica> => {
      const known = knownReadiness(r, balancer);
      if (known !== undefined) return { ...r, ready: known };
      return { ...r, ready: await probe(r.healthUrl!) };
    }),
  );
  return summarize(replicas);
}
