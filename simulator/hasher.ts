import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

export interface PartSpan {
  partNumber: number;
  offset: number;
  length: number;
}

/**
 * The whole-file MD5 of an upload, computed while it arrives so the commit answers at once, as Apple's
 * does. MD5 cannot be combined from part digests, so parts are hashed in offset order: after each part
 * lands, every part from the hashed prefix onwards that has arrived is read back (it is still in the page
 * cache) and fed to the digest. A part sent again inside the hashed prefix restarts it. SHA-256, which
 * clients rarely send (and Apple was seen refusing), is computed only when a commit asks for it.
 */
export class FileHasher {
  private md5: Hash = createHash('md5');
  private next = 0; // index in `spans` of the first part not yet hashed
  private generation = 0;
  private running: Promise<void> | undefined;
  private readonly spans: PartSpan[];

  constructor(
    private readonly path: string,
    spans: PartSpan[],
    /** Whether a part has fully arrived (read live: parts land while a pass runs). */
    private readonly isReceived: (partNumber: number) => boolean,
  ) {
    this.spans = [...spans].sort((a, b) => a.offset - b.offset);
  }

  /** A part is about to be (re)written: forget digests that already include its bytes. */
  invalidate(partNumber: number): void {
    const index = this.spans.findIndex((s) => s.partNumber === partNumber);
    // Not hashed and not being read: the pass stops before parts that are not received.
    if (index < 0 || index > this.next || (index === this.next && !this.running)) return;
    this.md5 = createHash('md5');
    this.next = 0;
    this.generation++;
  }

  /** Hashes every contiguous received part in the background (errors surface at `digest`). */
  kick(): void {
    this.running ??= this.catchUp().finally(() => {
      this.running = undefined;
    });
    this.running.catch(() => {});
  }

  private async catchUp(): Promise<void> {
    const fh = await open(this.path, 'r');
    try {
      let buf = Buffer.alloc(0);
      while (this.next < this.spans.length && this.isReceived(this.spans[this.next]!.partNumber)) {
        const span = this.spans[this.next]!;
        const gen = this.generation;
        if (buf.length < span.length) buf = Buffer.allocUnsafe(span.length);
        const { bytesRead } = await fh.read(buf, 0, span.length, span.offset);
        if (gen !== this.generation) continue; // restarted while reading: begin again from the new prefix
        if (bytesRead !== span.length) throw new Error(`part ${span.partNumber} is short on disk`);
        this.md5.update(buf.subarray(0, span.length));
        this.next++;
      }
    } finally {
      await fh.close();
    }
  }

  /** Resolves when no background pass is running (tests wait for it instead of for time). */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => {});
  }

  /** The digest of the whole file once every part is in, waiting for the background pass to finish. */
  async digest(algorithm: 'md5' | 'sha256'): Promise<string> {
    for (;;) {
      if (this.running) await this.running;
      if (this.next >= this.spans.length) break;
      if (!this.isReceived(this.spans[this.next]!.partNumber)) throw new Error('not every part was received');
      this.kick();
    }
    if (algorithm === 'md5') return this.md5.copy().digest('hex');
    const sha = createHash('sha256');
    for await (const chunk of createReadStream(this.path, { highWaterMark: 1 << 20 })) sha.update(chunk as Buffer);
    return sha.digest('hex');
  }
}
