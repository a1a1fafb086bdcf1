import { crc32 } from '../core/crc32.js';

/**
 * Hand-made hostile inputs for the inspector's tests and the bad-input corpus: each one reproduces an attack
 * from the issue tracker in a few hundred bytes to a few megabytes, generated on demand (never committed).
 */

/** A bplist00 document from raw object encodings; offsets are 4 bytes, references `refSize` bytes. */
export function bplistOf(objects: Buffer[], top = 0, refSize = 1): Buffer {
  const header = Buffer.from('bplist00', 'latin1');
  const offsets: number[] = [];
  let at = header.length;
  for (const o of objects) {
    offsets.push(at);
    at += o.length;
  }
  const table = Buffer.alloc(offsets.length * 4);
  for (const [i, o] of offsets.entries()) table.writeUInt32BE(o, i * 4);
  const trailer = Buffer.alloc(32);
  trailer[6] = 4;
  trailer[7] = refSize;
  trailer.writeBigUInt64BE(BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(BigInt(top), 16);
  trailer.writeBigUInt64BE(BigInt(at), 24);
  return Buffer.concat([header, ...objects, table, trailer]);
}

/** The marker byte(s) of a string, data or container of `len` items. */
function sized(kind: number, len: number): Buffer {
  if (len < 15) return Buffer.from([(kind << 4) | len]);
  const n = Buffer.alloc(4);
  n.writeUInt32BE(len);
  return Buffer.concat([Buffer.from([(kind << 4) | 0x0f, 0x12]), n]);
}

export const bpAscii = (s: string): Buffer => Buffer.concat([sized(0x5, s.length), Buffer.from(s, 'latin1')]);
export const bpArray = (refs: number[]): Buffer => Buffer.concat([sized(0xa, refs.length), Buffer.from(refs)]);
export const bpDict = (keys: number[], values: number[]): Buffer =>
  Buffer.concat([sized(0xd, keys.length), Buffer.from(keys), Buffer.from(values)]);
/** A data object that declares `declared` bytes but carries `actual` of them. */
export const bpData = (declared: number, actual: Buffer): Buffer => Buffer.concat([sized(0x4, declared), actual]);

/**
 * Issue 10 item 1: `{CFBundleIdentifier: obj2}` where objects 2..`levels+1` are each an array of `fanout`
 * references to the next. A few hundred bytes on disk, fanout^levels values when shared references are
 * expanded.
 */
export function bplistExpansionBomb(levels = 30, fanout = 16): Buffer {
  const objects = [bpDict([1], [2]), bpAscii('CFBundleIdentifier')];
  for (let i = 0; i < levels; i++) objects.push(bpArray(new Array(fanout).fill(3 + i)));
  objects.push(bpAscii('com.example.leaf'));
  return bplistOf(objects);
}

/** Issue 10 item 2: a `data` object whose declared length runs `overrun` bytes past the end of the file. */
export function bplistDataOverrun(overrun = 3000): Buffer {
  const payload = Buffer.from('real bytes');
  return bplistOf([
    bpDict([1, 3], [2, 4]),
    bpAscii('CFBundleIdentifier'),
    bpAscii('com.example.app'),
    bpAscii('Blob'),
    bpData(payload.length + overrun, payload),
  ]);
}

/** Issue 10 item 3: an XML plist of `count` `<true/>` elements in one array (8 MB at 1.15 M). */
export function xmlManyElements(count = 1_150_000): Buffer {
  return Buffer.from(`<?xml version="1.0"?><plist version="1.0"><array>${'<true/>'.repeat(count)}</array></plist>`);
}

/** Issue 10 item 3: nesting whose closing tags hide in comments, past a regex depth counter. */
export function xmlHiddenNesting(depth = 20_000): Buffer {
  return Buffer.from(
    `<?xml version="1.0"?><plist version="1.0">${'<array><!-- </array> -->'.repeat(depth)}${'</array>'.repeat(depth)}</plist>`,
  );
}

export interface RawZipEntry {
  name: string;
  data: Buffer;
  /** The name written in the local header, when it should differ from the central directory's. */
  localName?: string;
  /** Point this central-directory record at the local header of entry number `sharesLocalOf`. */
  sharesLocalOf?: number;
}

/**
 * A stored (uncompressed) zip written by hand, so tests can make archives no zip library would: duplicate
 * names, central-directory records sharing one local header, local names that differ from central ones.
 */
export function zipOf(entries: RawZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const e of entries) {
    const crc = crc32(e.data);
    if (e.sharesLocalOf !== undefined) {
      offsets.push(offsets[e.sharesLocalOf]!);
    } else {
      const name = Buffer.from(e.localName ?? e.name);
      const h = Buffer.alloc(30);
      h.writeUInt32LE(0x04034b50, 0);
      h.writeUInt16LE(20, 4);
      h.writeUInt32LE(crc, 14);
      h.writeUInt32LE(e.data.length, 18);
      h.writeUInt32LE(e.data.length, 22);
      h.writeUInt16LE(name.length, 26);
      locals.push(h, name, e.data);
      offsets.push(at);
      at += 30 + name.length + e.data.length;
    }
    const name = Buffer.from(e.name);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(e.data.length, 20);
    c.writeUInt32LE(e.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offsets.at(-1)!, 42);
    central.push(c, name);
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  const n = Math.min(entries.length, 0xffff);
  eocd.writeUInt16LE(n, 8);
  eocd.writeUInt16LE(n, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(at, 16);
  if (entries.length < 0xffff) return Buffer.concat([...locals, cd, eocd]);
  // More entries than the classic record can count: a zip64 end record and its locator say how many.
  const z64 = Buffer.alloc(56);
  z64.writeUInt32LE(0x06064b50, 0);
  z64.writeBigUInt64LE(44n, 4);
  z64.writeUInt16LE(45, 12);
  z64.writeUInt16LE(45, 14);
  z64.writeBigUInt64LE(BigInt(entries.length), 24);
  z64.writeBigUInt64LE(BigInt(entries.length), 32);
  z64.writeBigUInt64LE(BigInt(cd.length), 40);
  z64.writeBigUInt64LE(BigInt(at), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(at + cd.length), 8);
  locator.writeUInt32LE(1, 16);
  eocd.writeUInt16LE(0xffff, 8);
  eocd.writeUInt16LE(0xffff, 10);
  return Buffer.concat([...locals, cd, z64, locator, eocd]);
}
