// Starts the minimal Node proxy (minimal-proxy.mjs) in its own process.
import { fileURLToPath } from 'node:url';
import type { Competitor } from './haproxy.js';
import { startNodeCompetitor } from './node-competitor.js';

const SERVER = fileURLToPath(new URL('./minimal-proxy.mjs', import.meta.url));

export function startMinimalProxy(backend: string): Promise<Competitor> {
  return startNodeCompetitor([SERVER], backend);
}
