import { describe, expect, it } from 'vitest';
import {
  isEnabled,
  parsePort,
  parsePositiveNumber,
  parseSticky,
  replicaIndex,
  replicaName,
} from './labels.js';

describe('labels', () => {
  it('round-trips replica names', () => {
    expect(replicaName('backend', 3)).toBe('backend-3');
    expect(replicaIndex('backend', 'backend-3')).toBe(3);
    expect(replicaIndex('backend', '/backend-12')).toBe(12);
    expect(replicaIndex('backend', 'backend-x')).toBeUndefined();
    expect(replicaIndex('backend', 'backend-0')).toBeUndefined();
    expect(replicaIndex('backend', 'backend-api-1')).toBeUndefined();
    expect(replicaIndex('backend', 'other-1')).toBeUndefined();
  });
  it('parses lb.enable like Docker users write it', () => {
    expect(isEnabled('true')).toBe(true);
    expect(isEnabled('1')).toBe(true);
    expect(isEnabled('false')).toBe(false);
    expect(isEnabled(undefined)).toBe(false);
  });
  it('parses sticky policies', () => {
    expect(parseSticky(undefined, undefined)).toEqual({ kind: 'none' });
    expect(parseSticky('cookie', undefined)).toEqual({ kind: 'cookie', cookie: 'headroom_affinity' });
    expect(parseSticky('cookie', 'sid')).toEqual({ kind: 'cookie', cookie: 'sid' });
    expect(parseSticky('header:X-User', undefined)).toEqual({ kind: 'header', header: 'x-user' });
    expect(typeof parseSticky('header:', undefined)).toBe('string');
    expect(typeof parseSticky('ip', undefined)).toBe('string');
  });
  it('parses numbers and ports with errors as strings', () => {
    expect(parsePositiveNumber('2')).toBe(2);
    expect(parsePositiveNumber(undefined)).toBeUndefined();
    expect(typeof parsePositiveNumber('0')).toBe('string');
    expect(parsePositiveNumber('0', true)).toBe(0);
    expect(typeof parsePositiveNumber('abc')).toBe('string');
    expect(parsePort('8080')).toBe(8080);
    expect(typeof parsePort('70000')).toBe('string');
  });
});
