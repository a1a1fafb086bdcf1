import { DOMParser } from '@xmldom/xmldom';
import { parse, parseBinary } from 'plist';
import { AscendError } from '../core/errors.js';

export const MAX_PLIST_BYTES = 8 * 1024 * 1024;
export const MAX_PLIST_DEPTH = 64;

export type PlistValue = string | number | boolean | Date | Uint8Array | PlistValue[] | { [k: string]: PlistValue };
export type PlistDict = { [k: string]: PlistValue };

/**
 * Parses a binary or XML property list defensively: size, nesting depth and reference cycles are checked
 * before the parser sees the data, so a hostile plist gives a clear error instead of a stack overflow.
 */
export function parsePlist(buf: Uint8Array, origin: string): { value: PlistValue; format: 'binary' | 'xml' } {
  if (buf.length > MAX_PLIST_BYTES) throw bad(origin, `is ${buf.length} bytes; at most ${MAX_PLIST_BYTES} are read`);
  if (buf.length === 0) throw bad(origin, 'is empty');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.subarray(0, 8).toString('latin1') === 'bplist00') {
    checkBinaryStructure(b, origin);
    try {
      return { value: parseBinary(widenOffsetTable(b)) as PlistValue, format: 'binary' };
    } catch (err) {
      throw bad(origin, `is not a valid binary property list (${(err as Error).message})`, err);
    }
  }
  const text = b.toString('utf8');
  checkXml(text, origin);
  try {
    return { value: parse(text) as PlistValue, format: 'xml' };
  } catch (err) {
    throw bad(origin, `is not a valid XML property list (${(err as Error).message.split('\n')[0]})`, err);
  }
}

export function parsePlistDict(buf: Uint8Array, origin: string): { value: PlistDict; format: 'binary' | 'xml' } {
  const { value, format } = parsePlist(buf, origin);
  if (
    !value ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    value instanceof Date ||
    value instanceof Uint8Array
  ) {
    throw bad(origin, 'does not hold a dictionary at its root');
  }
  return { value: value as PlistDict, format };
}

function bad(origin: string, what: string, cause?: unknown): AscendError {
  return new AscendError('PLIST_INVALID', `${origin} ${what}`, { cause });
}

function readUInt(b: Buffer, offset: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + b[offset + i]!;
  return v;
}

/** Walks a bplist00's object graph from the trailer: offsets in range, no cycles, bounded depth. */
function checkBinaryStructure(b: Buffer, origin: string): void {
  if (b.length < 40) throw bad(origin, 'is a truncated binary property list');
  const t = b.length - 32;
  const offsetSize = b[t + 6]!;
  const refSize = b[t + 7]!;
  const numObjects = readUInt(b, t + 8, 8);
  const top = readUInt(b, t + 16, 8);
  const tableOffset = readUInt(b, t + 24, 8);
  if (offsetSize < 1 || offsetSize > 8 || refSize < 1 || refSize > 8)
    throw bad(origin, `declares invalid integer sizes (${offsetSize}, ${refSize})`);
  if (numObjects < 1 || top >= numObjects || tableOffset + numObjects * offsetSize > t)
    throw bad(origin, 'has an offset table out of range');
  const offsetOf = (i: number) => {
    const o = readUInt(b, tableOffset + i * offsetSize, offsetSize);
    if (o < 8 || o >= tableOffset) throw bad(origin, `has object ${i} at an invalid offset`);
    return o;
  };
  const lengthAt = (o: number): { count: number; start: number } => {
    const low = b[o]! & 0x0f;
    if (low !== 0x0f) return { count: low, start: o + 1 };
    const marker = b[o + 1]!;
    if (marker >> 4 !== 0x1) throw bad(origin, 'has an invalid length marker');
    const size = 1 << (marker & 0x0f);
    return { count: readUInt(b, o + 2, size), start: o + 2 + size };
  };
  const state = new Uint8Array(numObjects); // 0 unseen, 1 on the current path, 2 done
  const visit = (i: number, depth: number): void => {
    if (depth > MAX_PLIST_DEPTH) throw bad(origin, `nests deeper than ${MAX_PLIST_DEPTH} levels`);
    if (state[i] === 1) throw bad(origin, 'contains a reference cycle');
    if (state[i] === 2) return;
    state[i] = 1;
    const o = offsetOf(i);
    const kind = b[o]! >> 4;
    if (kind === 0xa || kind === 0xc || kind === 0xd) {
      const { count, start } = lengthAt(o);
      const refs = kind === 0xd ? count * 2 : count;
      if (start + refs * refSize > tableOffset) throw bad(origin, 'has a container running past its data');
      for (let r = 0; r < refs; r++) {
        const child = readUInt(b, start + r * refSize, refSize);
        if (child >= numObjects) throw bad(origin, 'references an object that does not exist');
        visit(child, depth + 1);
      }
    }
    state[i] = 2;
  };
  visit(top, 0);
}

/**
 * Offset tables with 3-, 5-, 6- or 7-byte entries are valid bplist00 (some writers emit them) but the parser
 * reads only 1, 2, 4 and 8: rewrite the table with the next supported width. Objects stay where they are.
 */
function widenOffsetTable(b: Buffer): Buffer {
  const t = b.length - 32;
  const size = b[t + 6]!;
  if (size === 1 || size === 2 || size === 4 || size === 8) return b;
  const wide = size === 3 ? 4 : 8;
  const num = readUInt(b, t + 8, 8);
  const tableOffset = readUInt(b, t + 24, 8);
  const table = Buffer.alloc(num * wide);
  // Buffer writes at most 6 bytes at once; offsets in a file under 8 MiB fit easily, right-aligned.
  const width = Math.min(wide, 6);
  for (let i = 0; i < num; i++)
    table.writeUIntBE(readUInt(b, tableOffset + i * size, size), i * wide + (wide - width), width);
  const trailer = Buffer.from(b.subarray(t));
  trailer[6] = wide;
  return Buffer.concat([b.subarray(0, tableOffset), table, trailer]);
}

/** Well-formedness and depth of an XML plist, checked silently (the parser would log to the console). */
function checkXml(text: string, origin: string): void {
  const errors: string[] = [];
  let doc: ReturnType<DOMParser['parseFromString']>;
  try {
    doc = new DOMParser({
      onError: (level: string, msg: string) => {
        if (level !== 'warning') errors.push(msg);
      },
    }).parseFromString(text, 'text/xml');
  } catch (err) {
    // xmldom throws on fatal errors even with a handler.
    errors.push((err as Error).message);
  }
  if (errors.length) throw bad(origin, `is not well-formed XML (${errors[0]!.split('\n')[0]})`);
  const root = doc!.documentElement;
  if (root?.nodeName !== 'plist') throw bad(origin, 'has no <plist> root element');
  let depth = 0;
  let max = 0;
  for (const m of text.matchAll(/<(\/?)(dict|array)\b[^>]*?(\/?)>/g)) {
    if (m[3]) continue;
    depth += m[1] ? -1 : 1;
    max = Math.max(max, depth);
  }
  if (max > MAX_PLIST_DEPTH) throw bad(origin, `nests deeper than ${MAX_PLIST_DEPTH} levels`);
}
