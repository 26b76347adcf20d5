import { describe, expect, it } from 'vitest';
import { tokenMatches } from './admin-server.js';

describe('tokenMatches', () => {
  it.each([
    ['Bearer s3cret', true],
    ['Bearer s3cre', false],
    ['Bearer s3cretx', false],
    ['bearer s3cret', false],
    ['s3cret', false],
    [undefined, false],
    ['Bearer ', false],
  ])('%s → %s', (header, ok) => {
    expect(tokenMatches('s3cret', header)).toBe(ok);
  });
});
