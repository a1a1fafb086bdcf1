import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { AscendError } from '../../core/errors.js';

/** A build's whole (redacted) output, appended as it comes; past `maxBytes` it says so once and stops. */
export interface BuildLogWriter {
  append(lines: string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Whole build logs as files, one per deploy (`<dir>/<deployId>.log`, 0600), beside the bounded `log` events:
 * the events carry the first lines live and the last ones, the file every line (up to `maxBytes`).
 */
export class BuildLogFiles {
  constructor(
    private readonly dir: string,
    private readonly maxBytes = 256 * 1024 ** 2,
  ) {}

  private pathOf(deployId: string): string {
    // The id becomes a path: only an id of ours is accepted, so no input can walk the tree.
    if (!/^dep_[a-z0-9]+$/i.test(deployId)) throw new AscendError('INTERNAL', 'a deploy id is not valid');
    return join(this.dir, `${deployId}.log`);
  }

  /** A new log for the deploy (a retry's run replaces the previous one). */
  async writer(deployId: string): Promise<BuildLogWriter> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const out: WriteStream = createWriteStream(this.pathOf(deployId), { flags: 'w', mode: 0o600 });
    let written = 0;
    let cut = false;
    const write = (text: string) =>
      new Promise<void>((resolve, reject) => {
        out.write(text, (err) => (err ? reject(err) : resolve()));
      });
    return {
      append: async (lines) => {
        if (cut) return;
        const text = `${lines.join('\n')}\n`;
        if (written + text.length > this.maxBytes) {
          cut = true;
          await write(`… the log was cut at ${this.maxBytes} bytes …\n`);
          return;
        }
        written += text.length;
        await write(text);
      },
      close: () => new Promise<void>((resolve) => out.end(resolve)),
    };
  }

  /** The deploy's log to send, or undefined when it has none. */
  async open(deployId: string): Promise<{ stream: Readable; size: number } | undefined> {
    const path = this.pathOf(deployId);
    const s = await stat(path).catch(() => undefined);
    if (!s?.isFile()) return undefined;
    // Up to the size seen now: a running build keeps appending, and the length sent must match what is sent.
    const stream = s.size > 0 ? createReadStream(path, { start: 0, end: s.size - 1 }) : Readable.from([]);
    return { stream, size: s.size };
  }
}
