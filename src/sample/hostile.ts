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
