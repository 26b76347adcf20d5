// Wrong methods on the real backend answer 405 with Allow and the curl line that works
// (issue 15: `curl http://localhost:8080/cpu/toggle` answered 404 "no route").
import { type RunningBackend, startBackend } from '@headroom/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let be: RunningBackend;

beforeAll(async () => {
  be = await startBackend({ instance: 'methods-1' });
});
afterAll(async () => {
  await be?.stop();
});

describe('wrong methods', () => {
  it.each([
    ['GET', '/cpu/toggle', 'POST', `curl -X POST http://127.0.0.1:PORT/cpu/toggle`],
    ['PUT', '/load?ms=5', 'GET, HEAD', 'curl http://127.0.0.1:PORT/load?ms=5'],
    ['PATCH', '/memory', 'GET, HEAD, POST, DELETE', 'curl http://127.0.0.1:PORT/memory'],
  ])('%s %s → 405, Allow: %s, hint %s', async (method, path, allow, hint) => {
    const res = await fetch(`${be.url}${path}`, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(await res.json()).toMatchObject({
      statusCode: 405,
      code: 'BACKEND_ERR_METHOD_NOT_ALLOWED',
      error: 'Method Not Allowed',
      hint: hint.replace('PORT', String(be.port)),
    });
  });

  it('names the host the client used when a proxy says so', async () => {
    const res = await fetch(`${be.url}/cpu/toggle`, { headers: { 'x-forwarded-host': 'localhost:8080' } });
    expect(((await res.json()) as { hint: string }).hint).toBe(
      'curl -X POST http://localhost:8080/cpu/toggle',
    );
  });

  it('an unknown path is still a 404', async () => {
    const res = await fetch(`${be.url}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('allow')).toBeNull();
  });

  it('the right method still works', async () => {
    const on = await fetch(`${be.url}/cpu/toggle`, { method: 'POST' });
    expect(on.status).toBe(200);
    await fetch(`${be.url}/cpu/toggle`, { method: 'POST' });
  });
});
