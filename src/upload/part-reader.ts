import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { OrderedHasher } from './hasher.js';
import type { PartPlan } from './operations.js';
import type { ChunkPool } from './pool.js';

export interface PartReaderDeps {
  fh: FileHandle;
  pool: ChunkPool;
  hasher: OrderedHasher;
  /** Most bytes held for the in-order checksum before parts ahead of the oldest unfinished one pause. */
  holdBudget: number;
  /** Called after each chunk is read and hashed, before it is handed on. */
  onChunk?: (bytes: number) => void;
}

/**
 * A part's bytes from disk in pooled chunks; each chunk is fed to the whole-file hasher as it is read, so the
 * checksum needs no second read of the file.
 */
export function readPart(p: PartPlan, d: PartReaderDeps): Readable {
  let position = 0;
  // A part ahead of the oldest unfinished one waits while too much is held for the checksum.
  const gate = async () => {
    while (p.index !== d.hasher.frontier && d.hasher.bufferedBytes >= d.holdBudget && !d.hasher.isCancelled)
      await d.hasher.nextAdvance();
  };
  return new Readable({
    highWaterMark: 2,
    objectMode: true, // chunks are Buffers; object mode keeps the pooled Buffer itself, not a copy
    read() {
      if (position >= p.length) {
        this.push(null);
        return;
      }
      const buffer = d.pool.take();
      const want = Math.min(buffer.length, p.length - position);
      gate()
        .then(() => d.fh.read(buffer, 0, want, p.offset + position))
        .then(
          ({ bytesRead }) => {
            if (bytesRead === 0) {
              d.pool.give(buffer);
              this.destroy(new Error(`unexpected end of file at ${p.offset + position}`));
              return;
            }
            const chunk = d.pool.wrap(buffer, bytesRead);
            d.hasher.feed(p.index, position, chunk);
            position += bytesRead;
            d.onChunk?.(bytesRead);
            this.push(chunk);
          },
          (err: Error) => this.destroy(err),
        );
    },
  });
}
