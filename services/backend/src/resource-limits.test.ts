import { describe, expect, it } from 'vitest';
import { parseCfsQuota, parseCpuMax, parseMemoryMax } from './resource-limits.js';

describe('cgroup limit parsing', () => {
  it.each([
    ['50000 100000\n', 0.5],
    ['200000 100000', 2],
    ['12500 100000', 0.125],
    ['max 100000\n', undefined],
    ['', undefined],
  ])('cpu.max %j → %s cores', (text, cores) => {
    expect(parseCpuMax(text)).toBe(cores);
  });
  it('reads cgroup v1 quotas, -1 meaning unlimited', () => {
    expect(parseCfsQuota('50000\n', '100000\n')).toBe(0.5);
    expect(parseCfsQuota('-1', '100000')).toBeUndefined();
  });
  it('treats "max" and host-sized v1 limits as unlimited', () => {
    const host = 8 * 1024 ** 3;
    expect(parseMemoryMax('268435456\n', host)).toBe(268435456);
    expect(parseMemoryMax('max\n', host)).toBeUndefined();
    expect(parseMemoryMax('9223372036854771712', host)).toBeUndefined();
  });
});
