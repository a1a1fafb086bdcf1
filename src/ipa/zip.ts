import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { AscendError } from '../core/errors.js';

export interface ZipEntryInfo {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  isDirectory: boolean;
}

/**
 * Reads a zip by random access: only the central directory and the entries asked for are read, never the
 * whole archive (zip64 and archives over 4 GiB included). Nothing is ever extracted to disk.
 */
export class ZipReader {
  private constructor(
    private readonly zip: ZipFile,
    readonly entries: Map<string, Entry>,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<ZipReader> {
    const zip = await new Promise<ZipFile>((resolve, reject) =>
      yauzl.open(
        path,
        { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false },
        (err, z) => (err ? reject(mapZipError(err, path)) : resolve(z!)),
      ),
    );
    const entries = new Map<string, Entry>();
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (e: Entry) => {
        entries.set(e.fileName, e);
        zip.readEntry();
      });
      zip.on('end', () => resolve());
      zip.on('error', (err: Error) => reject(mapZipError(err, path)));
      zip.readEntry();
    }).catch((err) => {
      zip.close();
      throw err;
    });
    return new ZipReader(zip, entries, path);
  }

  list(): ZipEntryInfo[] {
    return [...this.entries.values()].map((e) => ({
      name: e.fileName,
      compressedSize: e.compressedSize,
      uncompressedSize: e.uncompressedSize,
      isDirectory: e.fileName.endsWith('/'),
    }));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /**
   * One entry's bytes, refusing anything that declares more than `maxBytes` or inflates past it (a deflate
   * bomb), and any entry whose data does not match its declared size.
   */
  async read(name: string, maxBytes: number): Promise<Buffer> {
    const entry = this.entries.get(name);
    if (!entry) throw new AscendError('IPA_CORRUPT', `${name} is not in ${this.path}`);
    if (entry.uncompressedSize > maxBytes) {
      throw new AscendError(
        'IPA_ENTRY_TOO_LARGE',
        `${name} declares ${entry.uncompressedSize} bytes; at most ${maxBytes} are read`,
      );
    }
    const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
      this.zip.openReadStream(entry, (err, s) => (err ? reject(mapZipError(err, this.path, name)) : resolve(s!))),
    );
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) {
          (stream as unknown as { destroy(): void }).destroy();
          throw new AscendError('IPA_ENTRY_TOO_LARGE', `${name} inflates past ${maxBytes} bytes`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof AscendError) throw err;
      throw mapZipError(err as Error, this.path, name);
    }
    return Buffer.concat(chunks);
  }

  close(): void {
    this.zip.close();
  }
}

function mapZipError(err: Error, path: string, entry?: string): AscendError {
  const m = err.message;
  if (/absolute path|invalid relative path|invalid characters in fileName/.test(m)) {
    return new AscendError('IPA_UNSAFE_PATH', `${path} holds an unsafe entry path (${m})`, { cause: err });
  }
  if (/end of central directory record signature not found|not a zip|invalid central directory/i.test(m)) {
    return new AscendError('IPA_NOT_ZIP', `${path} is not a zip archive, so not an .ipa`, { cause: err });
  }
  const where = entry ? ` (entry ${entry})` : '';
  return new AscendError('IPA_CORRUPT', `${path} is damaged${where}: ${m}`, { cause: err });
}
