import { type FileHandle, open } from 'node:fs/promises';
import { basename } from 'node:path';

/** Sequential reads of one byte range: an upload part streamed once from its start to its end. */
export interface RangeReader {
  /** Up to `length` bytes of the range into `buffer` at `offset`; 0 at the range's end. */
  read(buffer: Buffer, offset: number, length: number): Promise<number>;
  close(): void;
}

/**
 * The bytes of a build, wherever they are: a local file (the CLI, the embedded server) or an artifact on
 * the server read by HTTP byte range (a worker on another machine, DESIGN §3.5). The inspector reads a few
 * ranges (the zip directory, Info.plist, the profile); the upload engine streams each part once.
 */
export interface ByteSource {
  /** A file name for messages and Apple's reservation; never a secret (no signed URL). */
  readonly name: string;
  readonly size: number;
  /** Saved with an upload's state so a changed file is never mixed with the parts of the old one. */
  readonly mtimeMs: number;
  /** FileHandle.read's shape, so zip and upload code read a file and a remote artifact alike. */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  range(start: number, length: number): RangeReader;
  close(): Promise<void>;
}

/** Opens a build by its name: the file system by default, the server's artifact store on a remote worker. */
export type OpenSource = (file: string) => Promise<ByteSource>;

/** A local file as a ByteSource: positional reads on one FileHandle. */
export async function openFileSource(path: string): Promise<ByteSource> {
  const fh: FileHandle = await open(path, 'r');
  try {
    const st = await fh.stat();
    return {
      name: basename(path),
      size: st.size,
      mtimeMs: Math.floor(st.mtimeMs),
      read: (buffer, offset, length, position) => fh.read(buffer, offset, length, position),
      range(start, length) {
        let at = 0;
        return {
          async read(buffer, offset, want) {
            const n = Math.min(want, length - at);
            if (n <= 0) return 0;
            const { bytesRead } = await fh.read(buffer, offset, n, start + at);
            at += bytesRead;
            return bytesRead;
          },
          close() {},
        };
      },
      close: () => fh.close(),
    };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
