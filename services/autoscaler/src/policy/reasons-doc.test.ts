// The README's reason table lists every code, and no code that does not exist.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REASON_CODES } from './reasons.js';

describe('reason codes in the README', () => {
  it('are documented, all of them and only them', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Reason codes'), readme.indexOf('## Runtimes'));
    const documented = [...table.matchAll(/`([A-Z][A-Za-z]+)`/g)].map((m) => m[1]!);
    expect([...new Set(documented)].sort()).toEqual([...REASON_CODES].sort());
  });
});
