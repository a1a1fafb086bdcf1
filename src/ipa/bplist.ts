import { PlistLimitError, type PlistLimits, type PlistValue } from './plist-types.js';

/**
 * A strict reader of Apple's binary property lists (bplist00, CoreFoundation's CFBinaryPList.c layout):
 * every offset, length and count is checked against the buffer before it is used, and the *expanded* tree
 * is bounded, because objects may be shared: 30 arrays of 16 references to the next one are 749 bytes on
 * disk and 16^30 values once expanded (the general-purpose parser we used before grew to 4 GB on that).
 * Reference cycles and nesting depth are refused too. Errors are thrown as `BplistError` with a short
 * reason; `parsePlist` turns them into PLIST_INVALID.
 */
export class BplistError extends Error {}

const HEADER = 'bplist00';
const TRAILER = 32;
/** Seconds between the Unix epoch and Apple's reference date, 2001-01-01T00:00:00Z. */
const APPLE_EPOCH_S = 978_307_200;

interface Trailer {
  offsetSize: number;
  refSize: number;
  numObjects: number;
  top: number;
  tableOffset: number;
}

/** Big-endian unsigned integer of 1 to 8 bytes; refuses values past 2^53 (no offset or count is that big). */
function readUInt(b: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + b[at + i]!;
  if (!Number.isSafeInteger(v)) throw new BplistError('holds an integer too large to be an offset or count');
  return v;
}

function readTrailer(b: Uint8Array): Trailer {
  if (b.length < HEADER.length + 1 + TRAILER) throw new BplistError('is truncated');
  const t = b.length - TRAILER;
  const tr: Trailer = {
    offsetSize: b[t + 6]!,
    refSize: b[t + 7]!,
    numObjects: readUInt(b, t + 8, 8),
    top: readUInt(b, t + 16, 8),
    tableOffset: readUInt(b, t + 24, 8),
  };
  if (tr.offsetSize < 1 || tr.offsetSize > 8 || tr.refSize < 1 || tr.refSize > 8)
    throw new BplistError(`declares invalid integer sizes (offsets ${tr.offsetSize}, references ${tr.refSize})`);
  // Every object takes at least one byte between the header and the offset table.
  if (tr.tableOffset < HEADER.length || tr.numObjects < 1 || tr.numObjects > tr.tableOffset - HEADER.length)
    throw new BplistError('declares an object count or offset table out of range');
  if (tr.tableOffset + tr.numObjects * tr.offsetSize > t) throw new BplistError('has an offset table out of range');
  if (tr.top >= tr.numObjects) throw new BplistError('has a top object that does not exist');
  return tr;
}

/** Reads one bplist00 document into plain values. */
export function parseBinaryPlist(b: Uint8Array, limits: PlistLimits): PlistValue {
  if (Buffer.from(b.buffer, b.byteOffset, Math.min(8, b.length)).toString('latin1') !== HEADER)
    throw new BplistError('does not start with bplist00');
  return new Reader(b, readTrailer(b), limits).read();
}

class Reader {
  private nodes = 0;
  private bytes = 0;
  /** Objects on the path from the top to the one being read: a reference back to one of them is a cycle. */
  private readonly onPath: Uint8Array;

  constructor(
    private readonly b: Uint8Array,
    private readonly t: Trailer,
    private readonly limits: PlistLimits,
  ) {
    this.onPath = new Uint8Array(t.numObjects);
  }

  read(): PlistValue {
    return this.object(this.t.top, 0);
  }

  private offsetOf(i: number): number {
    const o = readUInt(this.b, this.t.tableOffset + i * this.t.offsetSize, this.t.offsetSize);
    if (o < HEADER.length || o >= this.t.tableOffset) throw new BplistError(`has object ${i} at an invalid offset`);
    return o;
  }

  /** Checks that [start, start+len) lies in the object area, before the offset table. */
  private span(start: number, len: number, what: string): void {
    if (!Number.isSafeInteger(len) || len < 0 || start + len > this.t.tableOffset)
      throw new BplistError(`has ${what} running past the end of its data`);
  }

  private count(nodes: number, bytes: number): void {
    this.nodes += nodes;
    this.bytes += bytes;
    if (this.nodes > this.limits.maxNodes)
      throw new PlistLimitError(`expands to more than ${this.limits.maxNodes} values`);
    if (this.bytes > this.limits.maxExpandedBytes)
      throw new PlistLimitError(`expands to more than ${this.limits.maxExpandedBytes} bytes of strings and data`);
  }

  /** The length of a string, data or container: in the marker's low nibble, or an int object after it. */
  private lengthAt(o: number): { len: number; start: number } {
    const low = this.b[o]! & 0x0f;
    if (low !== 0x0f) return { len: low, start: o + 1 };
    this.span(o + 1, 1, 'a length');
    const marker = this.b[o + 1]!;
    const n = marker & 0x0f;
    if (marker >> 4 !== 0x1 || n > 3) throw new BplistError('has an invalid length marker');
    const size = 1 << n;
    this.span(o + 2, size, 'a length');
    return { len: readUInt(this.b, o + 2, size), start: o + 2 + size };
  }

  private object(i: number, depth: number): PlistValue {
    if (i >= this.t.numObjects) throw new BplistError('references an object that does not exist');
    if (depth > this.limits.maxDepth) throw new PlistLimitError(`nests deeper than ${this.limits.maxDepth} levels`);
    if (this.onPath[i]) throw new BplistError('contains a reference cycle');
    this.count(1, 0);
    const o = this.offsetOf(i);
    const kind = this.b[o]! >> 4;
    if (kind === 0xa || kind === 0xc || kind === 0xd) {
      this.onPath[i] = 1;
      try {
        return kind === 0xd ? this.dict(o, depth) : this.array(o, depth);
      } finally {
        this.onPath[i] = 0;
      }
    }
    return this.scalar(o);
  }

  private refs(o: number, perEntry: number): { len: number; refAt: (k: number) => number } {
    const { len, start } = this.lengthAt(o);
    this.span(start, len * perEntry * this.t.refSize, 'a container');
    return { len, refAt: (k) => readUInt(this.b, start + k * this.t.refSize, this.t.refSize) };
  }

  private array(o: number, depth: number): PlistValue[] {
    const { len, refAt } = this.refs(o, 1);
    const out: PlistValue[] = [];
    for (let k = 0; k < len; k++) out.push(this.object(refAt(k), depth + 1));
    return out;
  }

  private dict(o: number, depth: number): { [k: string]: PlistValue } {
    const { len, refAt } = this.refs(o, 2);
    // A null prototype: keys such as "__proto__" are data, not a way to change the object's prototype.
    const out: { [k: string]: PlistValue } = Object.create(null);
    for (let k = 0; k < len; k++) {
      const key = this.object(refAt(k), depth + 1);
      if (typeof key !== 'string') throw new BplistError('has a dictionary key that is not a string');
      out[key] = this.object(refAt(len + k), depth + 1);
    }
    return out;
  }

  private scalar(o: number): PlistValue {
    const b = this.b;
    const marker = b[o]!;
    const low = marker & 0x0f;
    switch (marker >> 4) {
      case 0x0:
        if (low === 0x8) return false;
        if (low === 0x9) return true;
        throw new BplistError(`holds an unsupported object (marker 0x${marker.toString(16).padStart(2, '0')})`);
      case 0x1:
        return this.int(o, low);
      case 0x2: {
        if (low !== 2 && low !== 3) throw new BplistError('holds a real of invalid size');
        this.span(o + 1, 1 << low, 'a real');
        const v = new DataView(b.buffer, b.byteOffset + o + 1, 1 << low);
        return low === 2 ? v.getFloat32(0) : v.getFloat64(0);
      }
      case 0x3: {
        if (marker !== 0x33) throw new BplistError('holds a date of invalid size');
        this.span(o + 1, 8, 'a date');
        const s = new DataView(b.buffer, b.byteOffset + o + 1, 8).getFloat64(0);
        const d = new Date((s + APPLE_EPOCH_S) * 1000);
        if (Number.isNaN(d.getTime())) throw new BplistError('holds a date out of range');
        return d;
      }
      case 0x4: {
        const { len, start } = this.lengthAt(o);
        this.span(start, len, 'a data object');
        this.count(0, len);
        // A copy: a view would keep the whole buffer (and whatever shares its memory) reachable.
        return Uint8Array.prototype.slice.call(b, start, start + len);
      }
      case 0x5: {
        const { len, start } = this.lengthAt(o);
        this.span(start, len, 'a string');
        this.count(0, len);
        return Buffer.from(b.buffer, b.byteOffset + start, len).toString('latin1');
      }
      case 0x6: {
        const { len, start } = this.lengthAt(o);
        this.span(start, len * 2, 'a string');
        this.count(0, len * 2);
        const le = Buffer.from(b.subarray(start, start + len * 2));
        return le.swap16().toString('utf16le');
      }
      case 0x8: {
        // UIDs appear only in NSKeyedArchiver files; kept as CoreFoundation shows them, never followed.
        this.span(o + 1, low + 1, 'a UID');
        if (low > 7) throw new BplistError('holds a UID of invalid size');
        return { CF$UID: readUInt(b, o + 1, low + 1) };
      }
      default:
        throw new BplistError(`holds an unknown object (marker 0x${marker.toString(16).padStart(2, '0')})`);
    }
  }

  /** 1, 2, 4 and 8-byte integers (8 bytes signed); 16 bytes only as CoreFoundation writes unsigned 64-bit. */
  private int(o: number, low: number): number {
    if (low > 4) throw new BplistError('holds an integer of invalid size');
    const size = 1 << low;
    this.span(o + 1, size, 'an integer');
    const view = new DataView(this.b.buffer, this.b.byteOffset + o + 1, size);
    if (size < 8) return readUInt(this.b, o + 1, size);
    if (size === 8) return Number(view.getBigInt64(0));
    if (view.getBigUint64(0) !== 0n) throw new BplistError('holds an integer wider than 64 bits');
    // Past 2^53 a JavaScript number loses the low digits: good enough for diagnostics, never used for identity.
    return Number(view.getBigUint64(8));
  }
}
