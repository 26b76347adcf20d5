import { describe, expect, it } from 'vitest';
import { needsToken } from './admin-auth.js';

describe('needsToken: which admin calls need the token', () => {
  // method, url, ADMIN_READS_NEED_TOKEN → needs the token
  const rows: Array<[string, string, boolean, boolean]> = [
    ['PUT', '/api/mode', false, true],
    ['POST', '/api/backends', false, true],
    ['DELETE', '/api/backends/x', true, true],
    ['GET', '/api/backends', false, false],
    ['GET', '/metrics', false, false],
    ['GET', '/api/backends', true, true],
    ['GET', '/api/backends?service=a', true, true],
    ['GET', '/api/stats', true, true],
    ['GET', '/api/events?since=3', true, true],
    ['GET', '/api/autoscaler/status', true, true],
    ['HEAD', '/api/stats', true, true],
    ['GET', '/metrics', true, true],
    ['GET', '/api/info', true, false],
    ['GET', '/healthz', true, false],
    ['GET', '/', true, false],
    ['GET', '/assets/index.js', true, false],
    ['GET', '/apiary', true, false],
  ];
  it.each(rows)('%s %s (reads need it: %s) → %s', (method, url, reads, want) => {
    expect(needsToken(method, url, reads)).toBe(want);
  });
});
