import { createHash, type Hash } from 'node:crypto';
import { release, retain } from './pool.js';

/**
 * The whole file's MD5, computed from the same reads that feed the part uploads (no second read of the
 * file). MD5 must see bytes in order while parts are read in parallel, so bytes of parts ahead of the
 * oldest unfinished part are held until it completes. The engine bounds how far ahead a part may start, so
 * what is held never exceeds (window × part size), whatever the file's size.
 */
export class OrderedHasher {
  private readonly hash: Hash = createHash('md5');
  private readonly delivered: number[];
  private readonly held = new Map<number, { data: Buffer; owner: Buffer }[]>();
  private heldBytes = 0;
  private frontierIndex = 0;
  private readonly waiters = new Set<() => void>();
  private cancelled = false;

  constructor(private readonly lengths: number[]) {
    this.delivered = lengths.map(() => 0);
    this.skipEmpty();
  }

  /** Index of the oldest part not fully hashed. */
  get frontier(): number {
    return this.frontierIndex;
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  get bufferedBytes(): number {
    return this.heldBytes;
  }

  /** Bytes `chunk` of part `index`, starting at `position` within the part. Re-reads (retries) are ignored. */
  feed(index: number, position: number, chunk: Buffer): void {
    const already = this.delivered[index]!;
    if (position > already) throw new Error(`hasher: gap in part ${index} at ${position} (have ${already})`);
    const fresh = chunk.subarray(already - position);
    if (fresh.length === 0) return;
    this.delivered[index] = already + fresh.length;
    if (index === this.frontierIndex) this.hash.update(fresh);
    else {
      const list = this.held.get(index) ?? [];
      // No copy: the chunk's buffer is held (retained) until hashed, then handed back to its pool.
      retain(chunk);
      list.push({ data: fresh, owner: chunk });
      this.held.set(index, list);
      this.heldBytes += fresh.length;
    }
    this.advance();
  }

  /** Resolves once `index` is within `window` parts of the frontier. */
  async waitForWindow(index: number, window: number): Promise<void> {
    while (!this.cancelled && index >= this.frontierIndex + window) {
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }

  /** Resolves at the next advance of the frontier (or at once after `cancel`). */
  async nextAdvance(): Promise<void> {
    if (this.cancelled) return;
    await new Promise<void>((resolve) => this.waiters.add(resolve));
  }

  /** Releases every waiter (the upload failed; nothing more will be hashed). */
  cancel(): void {
    this.cancelled = true;
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  digest(): string {
    if (this.frontierIndex < this.lengths.length) throw new Error('hasher: not every byte was read');
    return this.hash.digest('hex');
  }

  private skipEmpty(): void {
    while (
      this.frontierIndex < this.lengths.length &&
      this.delivered[this.frontierIndex] === this.lengths[this.frontierIndex]
    ) {
      this.frontierIndex++;
      const held = this.held.get(this.frontierIndex);
      if (held) {
        for (const b of held) {
          this.hash.update(b.data);
          this.heldBytes -= b.data.length;
          release(b.owner);
        }
        this.held.delete(this.frontierIndex);
      }
    }
  }

  private advance(): void {
    const before = this.frontierIndex;
    this.skipEmpty();
    if (this.frontierIndex !== before) {
      for (const w of this.waiters) w();
      this.waiters.clear();
    }
  }
}
