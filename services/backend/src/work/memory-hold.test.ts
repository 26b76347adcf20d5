import { describe, expect, it } from 'vitest';
import { MemoryHold } from './memory-hold.js';

describe('MemoryHold', () => {
  it('holds up to the cap and refuses beyond it without holding anything more', () => {
    const hold = new MemoryHold(8);
    expect(hold.add(5)).toBe(true);
    expect(hold.add(4)).toBe(false);
    expect(hold.heldMb).toBe(5);
    expect(hold.add(3)).toBe(true);
    expect(hold.heldMb).toBe(8);
    hold.free();
    expect(hold.heldMb).toBe(0);
  });
});
