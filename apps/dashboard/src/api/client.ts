// Typed client of the balancer's admin API: every response is parsed with the shared
// zod contracts, so a server that drifts from them fails loudly here, not in a chart.
import {
  autoscalerStatusSchema,
  type BalancerMode,
  backendEventsSchema,
  backendListSchema,
  balancerInfoSchema,
  burstResultSchema,
  cpuStateSchema,
  decisionListSchema,
  historySchema,
  modeResponseSchema,
  serviceListSchema,
  statsSchema,
} from '@headroom/shared/contracts';
import type { z } from 'zod';
import { appConfig } from '../app-config';

const TOKEN_KEY = 'headroom-admin-token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

async function call<S extends z.ZodType>(
  method: string,
  path: string,
  schema: S,
  body?: unknown,
): Promise<z.output<S>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = tokenStore.get();
  // on reads too: with ADMIN_READS_NEED_TOKEN the balancer asks for it on every /api read
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${appConfig.apiBase}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'the balancer is unreachable');
  }
  const json: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const err = json as { code?: string; message?: string } | undefined;
    throw new ApiError(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText);
  }
  return schema.parse(json);
}

export const api = {
  info: () => call('GET', '/api/info', balancerInfoSchema),
  backends: () => call('GET', '/api/backends', backendListSchema),
  history: () => call('GET', '/api/stats/history', historySchema),
  stats: () => call('GET', '/api/stats', statsSchema),
  setMode: (mode: BalancerMode) => call('PUT', '/api/mode', modeResponseSchema, { mode }),
  services: () => call('GET', '/api/services', serviceListSchema),
  setServiceMode: (service: string, mode: BalancerMode) =>
    call('PUT', `/api/services/${encodeURIComponent(service)}/mode`, modeResponseSchema, { mode }),
  cpuState: (id: string) => call('GET', `/api/backends/${encodeURIComponent(id)}/cpu`, cpuStateSchema),
  toggleCpu: (id: string) =>
    call('POST', `/api/backends/${encodeURIComponent(id)}/cpu/toggle`, cpuStateSchema, {}),
  burst: (requests: number, concurrency: number, ms: number) =>
    call('POST', '/api/burst', burstResultSchema, { requests, concurrency, ms }),
  autoscalerStatus: () => call('GET', '/api/autoscaler/status', autoscalerStatusSchema),
  autoscalerDecisions: () => call('GET', '/api/autoscaler/decisions', decisionListSchema),
  events: () => call('GET', '/api/events', backendEventsSchema),
};
