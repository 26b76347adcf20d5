// Holds memory for memory-stress tests. Buffers are written so the pages are really
// resident (RSS grows), not just reserved. A cap protects the host.
const MB = 1024 * 1024;

export class MemoryHold {
  private chunks: Buffer[] = [];
  private heldBytes = 0;

  constructor(readonly capMb: number) {}

  get heldMb(): number {
    return this.heldBytes / MB;
  }

  /** Adds `mb`; returns false (holding nothing more) when that would pass the cap. */
  add(mb: number): boolean {
    if (this.heldMb + mb > this.capMb) return false;
    for (let i = 0; i < mb; i++) {
      const chunk = Buffer.allocUnsafeSlow(MB);
      chunk.fill(i & 0xff);
      this.chunks.push(chunk);
    }
    this.heldBytes += mb * MB;
    return true;
  }

  free(): void {
    this.chunks = [];
    this.heldBytes = 0;
  }
}
