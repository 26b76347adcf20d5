// Starts the minimal Node proxy (minimal-proxy.mjs) in its own process.
import { fileURLToPath } from 'node:url';
import type { BenchCert } from '../lib/bench-cert.js';
import type { Competitor } from './haproxy.js';
import { startNodeCompetitor } from './node-competitor.js';

const SERVER = fileURLToPath(new URL('./minimal-proxy.mjs', import.meta.url));

/** With `tls`: node:https instead of node:http, nothing else changed. */
export function startMinimalProxy(backend: string, tls?: BenchCert): Promise<Competitor> {
  return startNodeCompetitor([SERVER], backend, tls);
}
