import { inflateRawSync } from 'node:zlib';
import { type ByteSource, openFileSource } from '../core/byte-source.js';
import { crc32 } from '../core/crc32.js';
import { AscendError } from '../core/errors.js';
import { quoteForLine } from '../core/text.js';
import { parseCentralDirectory, type ZipDirectory, type ZipEntry } from './zip-directory.js';

type ZipBytes = Pick<ByteSource, 'read' | 'close'>;

export type { ZipEntry } from './zip-directory.js';
export { MAX_ZIP_ENTRIES } from './zip-directory.js';

export interface ZipEntryInfo {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  isDirectory: boolean;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_SIG = 0x06064b50;
const LOCATOR_SIG = 0x07064b50;
const LOCAL_SIG = 0x04034b50;
/** The end record (22 bytes) plus the longest comment it can carry, plus the zip64 record and locator. */
const TAIL = 22 + 0xffff + 20 + 56;
/** 200,000 entries with typical names make ~25 MiB of directory; past 32 MiB it is not an app. */
const MAX_DIRECTORY_BYTES = 32 * 1024 * 1024;

interface EndRecord {
  entries: number;
  dirOffset: number;
  dirSize: number;
  /** Where the end records start: the directory must end at or before it. */
  endAt: number;
}

/**
 * Reads a zip by random access: the end record, the central directory in one read, and only the entries
 * asked for, never the whole archive (zip64 and archives over 4 GiB included). Nothing is extracted to
 * disk. What a general zip library lets through and Apple's ingestion refuses is refused here too:
 * duplicate names, entries sharing or overlapping each other's bytes, local names differing from the
 * directory's, and more entries than any app holds (MAX_ZIP_ENTRIES).
 */
export class ZipReader {
  private constructor(
    private readonly fh: ZipBytes,
    readonly entries: ZipDirectory,
    readonly path: string,
    private readonly dirOffset: number,
    private readonly owned: boolean,
  ) {}

  static async open(path: string): Promise<ZipReader> {
    const source = await openFileSource(path);
    try {
      return await ZipReader.from(source, path, true);
    } catch (err) {
      await source.close();
      throw err;
    }
  }

  /** Reads a zip from a ByteSource (a worker's remote artifact); `owned` closes it with the reader. */
  static async from(fh: ByteSource, path: string, owned = false): Promise<ZipReader> {
    const end = await readEnd(fh, fh.size, path);
    if (end.dirSize > MAX_DIRECTORY_BYTES)
      throw new AscendError(
        'IPA_TOO_MANY_ENTRIES',
        `${path} has a ${end.dirSize}-byte zip directory; at most ${MAX_DIRECTORY_BYTES} are read`,
      );
    const dir = await readAt(fh, end.dirOffset, end.dirSize, path);
    const entries = parseCentralDirectory(dir, end.entries, end.dirOffset, path);
    return new ZipReader(fh, entries, path, end.dirOffset, owned);
  }

  list(): ZipEntryInfo[] {
    return this.entries.names.map((name) => {
      const e = this.entries.get(name)!;
      return {
        name,
        compressedSize: e.compressedSize,
        uncompressedSize: e.uncompressedSize,
        isDirectory: name.endsWith('/'),
      };
    });
  }

  /** Every entry's name, in directory order. */
  names(): readonly string[] {
    return this.entries.names;
  }

  has(name: string): boolean {
    return this.entries.index.has(name);
  }

  /**
   * One entry's bytes, refusing anything that declares more than `maxBytes` or inflates past what it
   * declares (a deflate bomb), a local header that names another file, and data failing its CRC-32.
   */
  async read(name: string, maxBytes: number): Promise<Buffer> {
    const e = this.entries.get(name);
    if (!e) throw new AscendError('IPA_CORRUPT', `${quoteForLine(name)} is not in ${this.path}`);
    if (e.uncompressedSize > maxBytes || e.compressedSize > maxBytes + 1024 * 1024) {
      throw new AscendError(
        'IPA_ENTRY_TOO_LARGE',
        `${quoteForLine(name)} declares ${e.uncompressedSize} bytes; at most ${maxBytes} are read`,
      );
    }
    const head = await readAt(this.fh, e.offset, 30, this.path);
    if (head.readUInt32LE(0) !== LOCAL_SIG) throw corrupt(this.path, name, 'its local header is missing');
    const nameLen = head.readUInt16LE(26);
    const extraLen = head.readUInt16LE(28);
    const localName = await readAt(this.fh, e.offset + 30, nameLen, this.path);
    if (!localName.equals(e.rawName ?? Buffer.from(e.name))) {
      throw new AscendError(
        'IPA_NAME_MISMATCH',
        `${this.path} names an entry ${quoteForLine(name)} in its directory but ${quoteForLine(localName.toString('utf8'))} in its local header`,
      );
    }
    const start = e.offset + 30 + nameLen + extraLen;
    if (start + e.compressedSize > this.dirOffset) throw corrupt(this.path, name, 'its data runs into the directory');
    const raw = await readAt(this.fh, start, e.compressedSize, this.path);
    const data = this.decode(e, raw);
    if (data.length !== e.uncompressedSize)
      throw corrupt(this.path, name, `it holds ${data.length} bytes but declares ${e.uncompressedSize}`);
    if (crc32(data) !== e.crc) throw corrupt(this.path, name, 'its CRC-32 does not match');
    return data;
  }

  private decode(e: ZipEntry, raw: Buffer): Buffer {
    if (e.method === 0) return raw;
    if (e.method !== 8) throw corrupt(this.path, e.name, `it uses compression method ${e.method}, not deflate`);
    try {
      // One byte past the declared size is enough to know it lies; memory stays bounded by the declaration.
      return inflateRawSync(raw, { maxOutputLength: e.uncompressedSize + 1 });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
        throw corrupt(this.path, e.name, `it inflates past its declared ${e.uncompressedSize} bytes`);
      throw corrupt(this.path, e.name, `its compressed data is damaged (${(err as Error).message})`);
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.fh.close();
  }
}

function corrupt(path: string, entry: string, why: string): AscendError {
  return new AscendError('IPA_CORRUPT', `${path} is damaged (entry ${quoteForLine(entry)}): ${why}`);
}

async function readAt(fh: ZipBytes, position: number, length: number, path: string): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = length ? await fh.read(buf, 0, length, position) : { bytesRead: 0 };
  if (bytesRead !== length) throw new AscendError('IPA_CORRUPT', `${path} is damaged: it ends early (truncated?)`);
  return buf;
}

async function readEnd(fh: ZipBytes, size: number, path: string): Promise<EndRecord> {
  const tailStart = Math.max(0, size - TAIL);
  const tail = await readAt(fh, tailStart, size - tailStart, path);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    // The end record is the last signature whose comment length reaches exactly to the end of the file.
    if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new AscendError('IPA_NOT_ZIP', `${path} is not a zip archive, so not an .ipa`);
  const rec: EndRecord = {
    entries: tail.readUInt16LE(at + 10),
    dirSize: tail.readUInt32LE(at + 12),
    dirOffset: tail.readUInt32LE(at + 16),
    endAt: tailStart + at,
  };
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0)
    throw new AscendError('IPA_CORRUPT', `${path} is a multi-part zip; an .ipa is one file`);
  const loc = at - 20;
  if (loc >= 0 && tail.readUInt32LE(loc) === LOCATOR_SIG) {
    const z = Number(tail.readBigUInt64LE(loc + 8));
    const r = await readAt(fh, z, 56, path);
    if (r.readUInt32LE(0) !== EOCD64_SIG)
      throw new AscendError('IPA_CORRUPT', `${path} has a damaged zip64 end record`);
    rec.entries = Number(r.readBigUInt64LE(32));
    rec.dirSize = Number(r.readBigUInt64LE(40));
    rec.dirOffset = Number(r.readBigUInt64LE(48));
    rec.endAt = z;
  }
  if (rec.dirOffset + rec.dirSize > rec.endAt || !Number.isSafeInteger(rec.dirOffset + rec.dirSize))
    throw new AscendError('IPA_CORRUPT', `${path} is damaged: its zip directory lies outside the file`);
  return rec;
}
