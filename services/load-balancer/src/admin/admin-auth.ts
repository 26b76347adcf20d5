// Bearer-token check for admin calls that change state, and for reads too with
// ADMIN_READS_NEED_TOKEN (needsToken below decides which calls). Constant-time:
// both sides are hashed to equal length first, so neither content nor length leaks.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function tokenMatches(header: string | undefined, token: string): boolean {
  const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}

export function isMutating(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

/** Reads that stay open with ADMIN_READS_NEED_TOKEN: liveness, and what the dashboard needs to ask for the token. */
const OPEN_READS = new Set(['/healthz', '/api/info']);

/**
 * Pure: whether a call to the admin port needs the token. Changes always do (when a token is
 * set); with `reads`, so do reads of /api/* and /metrics, but not /healthz, /api/info or the
 * dashboard's static files (they hold no data: the page asks for the token on its first 401).
 */
export function needsToken(method: string, url: string, reads: boolean): boolean {
  if (isMutating(method)) return true;
  if (!reads) return false;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (OPEN_READS.has(path)) return false;
  return path === '/metrics' || path === '/api' || path.startsWith('/api/');
}
