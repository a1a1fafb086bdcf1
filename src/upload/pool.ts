/**
 * Reusable read buffers. Reading a multi-GiB file in fresh 64 KiB buffers leaves tens of MB of garbage
 * waiting for the GC at any moment; reusing them keeps the uploader's memory flat. A buffer goes back to
 * the pool only when every holder (the socket write, the in-order hasher) has released it.
 */
const HOLDS = Symbol('ascend.holds');

interface Held {
  [HOLDS]?: { n: number; pool: ChunkPool; buffer: Buffer };
}

export class ChunkPool {
  private readonly free: Buffer[] = [];
  constructor(readonly size: number) {}

  /** A chunk of `length` bytes backed by a pooled buffer, held once (by its reader). */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  wrap(buffer: Buffer, length: number): Buffer {
    const chunk = buffer.subarray(0, length) as Buffer & Held;
    chunk[HOLDS] = { n: 1, pool: this, buffer };
    return chunk;
  }

  give(buffer: Buffer): void {
    if (this.free.length < 4096) this.free.push(buffer);
  }
}

/** One more holder of `chunk` (no-op for chunks that are not pooled). */
export function retain(chunk: Buffer): void {
  const h = (chunk as Held)[HOLDS];
  if (h) h.n++;
}

/** Releases one hold; the last release returns the buffer to its pool. */
export function release(chunk: Buffer): void {
  const h = (chunk as Held)[HOLDS];
  if (!h || h.n <= 0) return;
  h.n--;
  if (h.n === 0) h.pool.give(h.buffer);
}
