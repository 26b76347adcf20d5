// The README's configuration reference is generated from the schemas; this keeps it current.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withConfigDocs } from '../src/config/update-readme.js';

describe('README configuration reference', () => {
  it('matches the config schemas (run `pnpm docs:config` to update)', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    expect(withConfigDocs(readme)).toBe(readme);
  });
});
