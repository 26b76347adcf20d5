// The plain proxy a Fastify user would write: @fastify/reply-from, in its own process.
import { fileURLToPath } from 'node:url';
import type { Competitor } from './haproxy.js';
import { startNodeCompetitor } from './node-competitor.js';

const SERVER = fileURLToPath(new URL('./reply-from-server.ts', import.meta.url));

export function startReplyFrom(backend: string): Promise<Competitor> {
  return startNodeCompetitor(['--import', 'tsx', SERVER], backend);
}
