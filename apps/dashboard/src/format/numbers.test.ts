import { describe, expect, it } from 'vitest';
import { decimal, millis, percent, rate } from './numbers';

describe('formatters', () => {
  it.each([
    [0.256, '26%'],
    [1, '100%'],
    [null, '—'],
    [Number.NaN, '—'],
  ])('percent(%s) = %s', (v, out) => expect(percent(v)).toBe(out));
  it.each([
    [0.5, '0.5/s'],
    [42.4, '42/s'],
    [1500, '1.5k/s'],
    [undefined, '—'],
  ])('rate(%s) = %s', (v, out) => expect(rate(v)).toBe(out));
  it.each([
    [3.21, '3.2 ms'],
    [42.7, '43 ms'],
    [1500, '1.5 s'],
    [25_000, '25 s'],
    [null, '—'],
  ])('millis(%s) = %s', (v, out) => expect(millis(v)).toBe(out));
  it('decimal', () => expect(decimal(0.8123)).toBe('0.81'));
});
