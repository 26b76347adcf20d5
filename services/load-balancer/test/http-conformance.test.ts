// The proxy against the HTTP/1.1 conformance table (conformance/table.ts: the MUSTs of RFC 9110
// and RFC 9112 for intermediaries). Each row's raw request goes to the real balancer on a raw
// socket; the backend is a raw-socket recorder, so what it received is asserted byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from './conformance/raw-client.js';
import { type RecordingBackend, startRecordingBackend } from './conformance/recording-backend.js';
import { ROWS } from './conformance/table.js';
import { type RunningLb, startLb, waitHealthy } from './lb-fixtures.js';

let backend: RecordingBackend;
let lb: RunningLb;
let port = 0;

beforeAll(async () => {
  backend = await startRecordingBackend();
  lb = await startLb({ BACKENDS: backend.url, METRICS_SOURCE: 'none', HEALTH_INTERVAL_MS: '60000' });
  port = Number(new URL(lb.proxy).port);
  await waitHealthy(lb.admin, 1);
});

afterAll(async () => {
  await lb?.stop();
  await backend?.close();
});

describe('HTTP/1.1 conformance (RFC 9110, RFC 9112)', () => {
  for (const row of ROWS) {
    it(`${row.id} (${row.ref}): ${row.must}`, async () => {
      const before = backend.requests.length;
      const res = await sendRaw(
        port,
        row.request,
        row.body === undefined ? {} : { afterContinue: { bytes: row.body, orAfterMs: 1500 } },
      );
      // a request that reaches the backend arrives before the answer; one that does not never does
      const got = backend.requests.slice(before);
      expect(res.status, res.raw.slice(0, 300)).toBe(row.status);
      if (row.continueFirst) expect(res.statuses[0]).toBe(100);
      if (row.backend === 'nothing') {
        expect(got.map((r) => r.requestLine)).toEqual([]);
        return;
      }
      expect(got).toHaveLength(1);
      const seen = got[0]!;
      const want = row.backend;
      if (want.requestLine !== undefined) expect(seen.requestLine).toBe(want.requestLine);
      if (want.body !== undefined) expect(seen.body).toBe(want.body);
      for (const [name, value] of Object.entries(want.has ?? {})) {
        expect(
          seen.headers.filter(([k]) => k === name).map(([, v]) => v),
          name,
        ).toEqual([value]);
      }
      for (const name of want.lacks ?? [])
        expect(
          seen.headers.map(([k]) => k),
          name,
        ).not.toContain(name);
      if (want.noFoldedValues) for (const [, v] of seen.headers) expect(v).not.toMatch(/[\r\n]/);
      if (want.ownConnectionOnly) {
        const tokens = seen.headers.filter(([k]) => k === 'connection').flatMap(([, v]) => v.split(','));
        for (const t of tokens) expect(['keep-alive', 'close']).toContain(t.trim().toLowerCase());
      }
    });
  }
});
