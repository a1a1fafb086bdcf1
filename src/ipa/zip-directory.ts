import { AscendError } from '../core/errors.js';
import { quoteForLine } from '../core/text.js';

/**
 * The most entries ascend reads in one .ipa. Large real apps hold tens of thousands of files (asset
 * catalogues compile to one Assets.car; localisations and frameworks add a few thousand each); 200,000 is
 * several times the largest we know of, while a directory that size still parses in well under a second
 * and ~40 MB. An archive over the limit is refused before its directory is read.
 */
export const MAX_ZIP_ENTRIES = 200_000;

export interface ZipEntry {
  name: string;
  /** The name's length in bytes as the directory holds it. */
  nameLength: number;
  /** The name's raw bytes, kept only when they are not valid UTF-8 (otherwise they are `name` re-encoded). */
  rawName?: Buffer;
  offset: number;
  compressedSize: number;
  uncompressedSize: number;
  crc: number;
  method: number;
}

/**
 * The directory in columns rather than one object per entry: at 200,000 entries this halves the heap
 * (~40 MB as objects), keeping inspection inside its memory budget whatever the archive.
 */
export class ZipDirectory {
  readonly index = new Map<string, number>();
  readonly names: string[] = [];
  private readonly offset: Float64Array;
  private readonly csize: Float64Array;
  private readonly usize: Float64Array;
  private readonly crc: Uint32Array;
  private readonly meta: Uint32Array;
  private readonly raw = new Map<number, Buffer>();

  constructor(capacity: number) {
    this.offset = new Float64Array(capacity);
    this.csize = new Float64Array(capacity);
    this.usize = new Float64Array(capacity);
    this.crc = new Uint32Array(capacity);
    this.meta = new Uint32Array(capacity);
  }

  get size(): number {
    return this.names.length;
  }

  add(e: ZipEntry): void {
    const i = this.names.length;
    this.names.push(e.name);
    this.index.set(e.name, i);
    this.offset[i] = e.offset;
    this.csize[i] = e.compressedSize;
    this.usize[i] = e.uncompressedSize;
    this.crc[i] = e.crc;
    this.meta[i] = (e.method << 16) | e.nameLength;
    if (e.rawName) this.raw.set(i, e.rawName);
  }

  at(i: number): ZipEntry {
    return {
      name: this.names[i]!,
      nameLength: this.meta[i]! & 0xffff,
      ...(this.raw.has(i) ? { rawName: this.raw.get(i)! } : {}),
      offset: this.offset[i]!,
      compressedSize: this.csize[i]!,
      uncompressedSize: this.usize[i]!,
      crc: this.crc[i]!,
      method: this.meta[i]! >>> 16,
    };
  }

  get(name: string): ZipEntry | undefined {
    const i = this.index.get(name);
    return i === undefined ? undefined : this.at(i);
  }

  /** Entry numbers in the order their local headers appear in the file. */
  byOffset(): Uint32Array {
    const order = new Uint32Array(this.size);
    for (let i = 0; i < order.length; i++) order[i] = i;
    return order.sort((a, b) => this.offset[a]! - this.offset[b]!);
  }
}

const CENTRAL_SIG = 0x02014b50;

function corrupt(path: string, why: string): AscendError {
  return new AscendError('IPA_CORRUPT', `${path} is damaged: ${why}`);
}

/** Windows drive letters, absolute paths, backslashes, NULs and ".." components escape any extraction folder. */
function unsafe(name: string): boolean {
  return (
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.split('/').some((part) => part === '..')
  );
}

/** Zip64 sizes and offset, present in the extra field only where the fixed field holds 0xFFFFFFFF. */
function applyZip64(e: ZipEntry, extra: Buffer, path: string): void {
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    if (p + 4 + len > extra.length) break;
    if (id === 0x0001) {
      let q = p + 4;
      const next = (): number => {
        if (q + 8 > p + 4 + len) throw corrupt(path, `entry ${quoteForLine(e.name)} has a short zip64 field`);
        const v = Number(extra.readBigUInt64LE(q));
        q += 8;
        return v;
      };
      if (e.uncompressedSize === 0xffffffff) e.uncompressedSize = next();
      if (e.compressedSize === 0xffffffff) e.compressedSize = next();
      if (e.offset === 0xffffffff) e.offset = next();
      return;
    }
    p += 4 + len;
  }
}

function record(dir: Buffer, p: number, path: string): { entry: ZipEntry; next: number; flags: number } {
  if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL_SIG) throw corrupt(path, 'its zip directory is damaged');
  const nameLen = dir.readUInt16LE(p + 28);
  const extraLen = dir.readUInt16LE(p + 30);
  const next = p + 46 + nameLen + extraLen + dir.readUInt16LE(p + 32);
  if (next > dir.length) throw corrupt(path, 'its zip directory is damaged');
  const name = dir.toString('utf8', p + 46, p + 46 + nameLen);
  const entry: ZipEntry = {
    name,
    nameLength: nameLen,
    // The directory buffer is dropped after parsing (it can be tens of MB); keep bytes that do not round-trip.
    ...(Buffer.byteLength(name) === nameLen ? {} : { rawName: Buffer.from(dir.subarray(p + 46, p + 46 + nameLen)) }),
    method: dir.readUInt16LE(p + 10),
    crc: dir.readUInt32LE(p + 16),
    compressedSize: dir.readUInt32LE(p + 20),
    uncompressedSize: dir.readUInt32LE(p + 24),
    offset: dir.readUInt32LE(p + 42),
  };
  applyZip64(entry, dir.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen), path);
  return { entry, next, flags: dir.readUInt16LE(p + 8) };
}

/**
 * Parses the whole central directory in one pass and refuses what Apple would: duplicate names (the
 * last would silently win), unsafe paths, encrypted entries, and entries whose bytes overlap (several
 * directory records pointing at one local header: a zip bomb, or two readers seeing different files).
 */
export function parseCentralDirectory(dir: Buffer, declared: number, dirOffset: number, path: string): ZipDirectory {
  if (declared > MAX_ZIP_ENTRIES)
    throw new AscendError(
      'IPA_TOO_MANY_ENTRIES',
      `${path} declares ${declared} entries; ascend reads at most ${MAX_ZIP_ENTRIES}`,
    );
  if (declared * 46 > dir.length) throw corrupt(path, `it declares ${declared} entries but its directory is too short`);
  const entries = new ZipDirectory(declared);
  let p = 0;
  while (p < dir.length) {
    if (entries.size >= declared) throw corrupt(path, `its directory holds more than the ${declared} entries declared`);
    const { entry, next, flags } = record(dir, p, path);
    p = next;
    if (unsafe(entry.name))
      throw new AscendError('IPA_UNSAFE_PATH', `${path} holds an unsafe entry path ${quoteForLine(entry.name)}`);
    if (flags & 1) throw corrupt(path, `entry ${quoteForLine(entry.name)} is encrypted`);
    if (entries.index.has(entry.name))
      throw new AscendError('IPA_DUPLICATE_ENTRY', `${path} holds ${quoteForLine(entry.name)} more than once`);
    entries.add(entry);
  }
  if (entries.size !== declared)
    throw corrupt(path, `it declares ${declared} entries but its directory holds ${entries.size}`);
  checkOverlaps(entries, dirOffset, path);
  return entries;
}

/** Every entry's local header and data must lie before the next entry's header and the directory. */
function checkOverlaps(dir: ZipDirectory, dirOffset: number, path: string): void {
  const order = dir.byOffset();
  for (let k = 0; k < order.length; k++) {
    const e = dir.at(order[k]!);
    // A lower bound: the local extra field and a data descriptor may add to it, never take away.
    const end = e.offset + 30 + e.nameLength + e.compressedSize;
    const next = k + 1 < order.length ? dir.at(order[k + 1]!) : undefined;
    if (next && next.offset < end) {
      throw new AscendError(
        'IPA_OVERLAPPING_ENTRIES',
        `${path} has entries sharing bytes: ${quoteForLine(next.name)} starts inside ${quoteForLine(e.name)}`,
      );
    }
    if (!next && end > dirOffset)
      throw new AscendError(
        'IPA_OVERLAPPING_ENTRIES',
        `${path} has entry ${quoteForLine(e.name)} running into its directory`,
      );
  }
}
