import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AscendError } from '../../core/errors.js';
import { base32, type RandomBytes } from './ids.js';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Uploaded builds on disk, named by SHA-256 (DESIGN §3.5): `<dir>/<first 2 hex>/<sha256>`. A body is streamed
 * to a temporary file while it is hashed and counted, so memory stays flat at any size; it is renamed into
 * place only when complete, and the same content is stored once.
 */
export class ArtifactFiles {
  constructor(
    readonly dir: string,
    private readonly randomBytes: RandomBytes,
  ) {}

  pathOf(sha256: string): string {
    // The digest becomes a path: anything but 64 hex digits is refused, so no input can walk the tree.
    if (!SHA256.test(sha256)) throw new AscendError('RESOURCE_NOT_FOUND', 'no artifact has that digest');
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  /** Streams `body` in; refuses (ARTIFACT_TOO_LARGE) as soon as it passes `maxBytes`, leaving nothing behind. */
  async put(body: Readable, maxBytes: number): Promise<{ sha256: string; size: number }> {
    await mkdir(join(this.dir, 'tmp'), { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, 'tmp', `${base32(this.randomBytes(10))}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > maxBytes) {
          done(new AscendError('ARTIFACT_TOO_LARGE', `the upload is larger than ${maxBytes} bytes`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(tmp, { mode: 0o600, flush: true }));
      const sha256 = hash.digest('hex');
      const final = this.pathOf(sha256);
      await mkdir(join(this.dir, sha256.slice(0, 2)), { recursive: true, mode: 0o700 });
      await rename(tmp, final);
      return { sha256, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Bytes `start`..`end` inclusive, for workers reading by range; RESOURCE_NOT_FOUND if absent. */
  async openRange(sha256: string, start: number, end: number): Promise<Readable> {
    const path = this.pathOf(sha256);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new AscendError('RESOURCE_NOT_FOUND', `artifact ${sha256.slice(0, 12)}… is not stored here`);
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end >= start && end < info.size)) {
      throw new AscendError('USAGE', `byte range ${start}-${end} is outside the artifact (${info.size} bytes)`);
    }
    return createReadStream(path, { start, end });
  }

  async size(sha256: string): Promise<number | undefined> {
    return (await stat(this.pathOf(sha256)).catch(() => undefined))?.size;
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }
}
