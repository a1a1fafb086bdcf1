import { Readable } from 'node:stream';
import type { ByteSource, RangeReader } from '../core/byte-source.js';
import type { OrderedHasher } from './hasher.js';
import type { PartPlan } from './operations.js';
import type { ChunkPool } from './pool.js';

export interface PartReaderDeps {
  source: ByteSource;
  pool: ChunkPool;
  hasher: OrderedHasher;
  /** Most bytes held for the in-order checksum before parts ahead of the oldest unfinished one pause. */
  holdBudget: number;
  /** Called after each chunk is read and hashed, before it is handed on. */
  onChunk?: (bytes: number) => void;
}

/**
 * A part's bytes from disk (or the server's artifact) in pooled chunks; each chunk is fed to the whole-file
 * hasher as it is read, so the checksum needs no second read of the file. One range reader per attempt, so a
 * remote source streams the part in one request.
 */
export function readPart(p: PartPlan, d: PartReaderDeps): Readable {
  let position = 0;
  let reader: RangeReader | undefined;
  // A part ahead of the oldest unfinished one waits while too much is held for the checksum.
  const gate = async () => {
    while (p.index !== d.hasher.frontier && d.hasher.bufferedBytes >= d.holdBudget && !d.hasher.isCancelled)
      await d.hasher.nextAdvance();
  };
  return new Readable({
    highWaterMark: 2,
    destroy(err, done) {
      reader?.close();
      done(err);
    },
    objectMode: true, // chunks are Buffers; object mode keeps the pooled Buffer itself, not a copy
    read() {
      if (position >= p.length) {
        reader?.close();
        this.push(null);
        return;
      }
      const buffer = d.pool.take();
      const want = Math.min(buffer.length, p.length - position);
      gate()
        .then(() => {
          reader ??= d.source.range(p.offset, p.length);
          return reader.read(buffer, 0, want);
        })
        .then(
          (bytesRead) => {
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
