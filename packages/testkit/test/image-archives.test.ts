// The engines' image archives: old ones are removed, but not one another run may be loading.
import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_IN_USE_MS, pruneArchives } from '../src/engines/dockerd.js';

describe('pruneArchives', () => {
  it('removes archives unused for ARCHIVE_IN_USE_MS and keeps one used since (another run may be loading it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hr-archives-'));
    const now = Date.now();
    const at = (name: string, ageMs: number) => {
      writeFileSync(join(dir, name), 'x');
      const t = new Date(now - ageMs);
      utimesSync(join(dir, name), t, t);
    };
    at('old.tar', ARCHIVE_IN_USE_MS + 60_000);
    at('loading.tar', 60_000); // another image set's run made or reused it a minute ago
    at('saving.tar.123.tmp', ARCHIVE_IN_USE_MS + 60_000); // not an archive (yet): never touched
    pruneArchives(dir, now);
    expect(readdirSync(dir).sort()).toEqual(['loading.tar', 'saving.tar.123.tmp']);
  });
});
