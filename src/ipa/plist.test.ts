import { buildBinary } from 'plist';
import { describe, expect, it } from 'vitest';
import {
  bpArray,
  bpAscii,
  bpDict,
  bplistDataOverrun,
  bplistExpansionBomb,
  bplistOf,
  xmlHiddenNesting,
  xmlManyElements,
} from '../sample/hostile.js';
import { parsePlist, parsePlistDict } from './plist.js';

const fails = (buf: Buffer, message: RegExp) => {
  let err: unknown;
  try {
    parsePlist(buf, 'Info.plist');
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ code: 'PLIST_INVALID' });
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toContain('\n');
};

describe('binary plists (own strict reader)', () => {
  it('reads what a writer wrote: ints, reals, dates, data, ASCII and UTF-16 strings, arrays, dicts', () => {
    const value = {
      s: 'ascii',
      u: 'ünïcødé ✓',
      i: 42,
      n: -7,
      big: 2 ** 40,
      r: 1.5,
      t: true,
      f: false,
      d: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
      data: Buffer.from([1, 2, 3]),
      list: [1, 'two', [3]],
      nested: { a: { b: 'c' } },
    };
    const { value: got, format } = parsePlistDict(Buffer.from(buildBinary(value as never)), 'x');
    expect(format).toBe('binary');
    expect({ ...got, data: Buffer.from(got.data as Uint8Array) }).toEqual(value);
  });

  it('refuses the 749-byte exponential plist (issue 10 item 1) after a bounded number of values', () => {
    const bomb = bplistExpansionBomb();
    expect(bomb.length).toBeLessThan(1024);
    const before = process.memoryUsage().heapUsed;
    fails(bomb, /expands to more than 200000 values/);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(150 * 1024 * 1024);
    // The same shape, small enough, is read in full: the bound is on the expansion, not the shape.
    expect(parsePlistDict(bplistExpansionBomb(3, 4), 'x').value.CFBundleIdentifier).toHaveLength(4);
  });

  it('refuses a data object running past the end (issue 10 item 2) instead of reading foreign memory', () => {
    fails(bplistDataOverrun(), /data object running past the end/);
    // The same object with its true length is fine.
    const ok = parsePlistDict(bplistDataOverrun(0), 'x').value;
    expect(Buffer.from(ok.Blob as Uint8Array).toString()).toBe('real bytes');
  });

  it('refuses out-of-range offsets, counts, references, sizes and unknown markers', () => {
    const good = bplistOf([bpDict([1], [2]), bpAscii('k'), bpAscii('v')]);
    const t = good.length - 32;
    const mutate = (f: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    fails(
      mutate((b) => b.writeBigUInt64BE(1000n, t + 8)),
      /object count or offset table out of range/,
    );
    fails(
      mutate((b) => b.writeBigUInt64BE(7n, t + 16)),
      /top object that does not exist/,
    );
    fails(
      mutate((b) => b.writeBigUInt64BE(BigInt(b.length), t + 24)),
      /out of range/,
    );
    fails(
      mutate((b) => b.writeUInt8(0, t + 6)),
      /invalid integer sizes/,
    );
    fails(
      mutate((b) => b.writeUInt32BE(good.length, t - 12 + 4)),
      /invalid offset/,
    );
    fails(
      mutate((b) => b.writeUInt8(9, 10)),
      /object that does not exist/,
    ); // dict's key ref
    fails(
      mutate((b) => b.writeUInt8(0x00, 8)),
      /unsupported object/,
    );
    fails(
      mutate((b) => b.writeUInt8(0x70, 8)),
      /unknown object/,
    );
    fails(
      mutate((b) => b.writeUInt8(0x1f, 8)),
      /integer of invalid size/,
    );
    fails(bplistOf([bpDict([1], [0]), bpAscii('k')]), /reference cycle/);
    fails(bplistOf([bpDict([1], [1]), bpArray([])]), /key that is not a string/);
    fails(Buffer.from('bplist00'), /truncated/);
  });

  it('accepts shared references that do not explode (a DAG), and keeps __proto__ as data', () => {
    const shared = bplistOf([bpDict([1, 2], [3, 3]), bpAscii('a'), bpAscii('__proto__'), bpAscii('same')]);
    const v = parsePlistDict(shared, 'x').value;
    expect(Object.keys(v)).toEqual(['a', '__proto__']);
    expect(v.a).toBe('same');
    expect(Object.getPrototypeOf(v)).toBe(null);
  });
});

describe('XML plists (own strict reader)', () => {
  it('reads the plist vocabulary, entities, CDATA and comments; skips the DOCTYPE', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><!-- a comment with <dict> inside -->
<dict>
  <key>s</key><string>a &amp; b &lt;c&gt; &#x2713; &#65;</string>
  <key>c</key><string><![CDATA[<not a tag> & raw]]></string>
  <key>i</key><integer>-12</integer>
  <key>h</key><integer>0x1F</integer>
  <key>r</key><real>2.5e2</real>
  <key>d</key><date>2026-01-02T03:04:05Z</date>
  <key>b</key><data>AQID
  BA==</data>
  <key>t</key><true/><key>f</key><false></false>
  <key>a</key><array><string/><dict/><array/></array>
</dict></plist>`;
    const { value, format } = parsePlistDict(Buffer.from(xml), 'x');
    expect(format).toBe('xml');
    expect({ ...value, b: [...(value.b as Uint8Array)] }).toEqual({
      s: 'a & b <c> ✓ A',
      c: '<not a tag> & raw',
      i: -12,
      h: 31,
      r: 250,
      d: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
      b: [1, 2, 3, 4],
      t: true,
      f: false,
      a: ['', {}, []],
    });
  });

  it('refuses 1.15 M elements (issue 10 item 3) while parsing, within a bounded heap', () => {
    const big = xmlManyElements();
    expect(big.length).toBeGreaterThan(8_000_000);
    const before = process.memoryUsage().heapUsed;
    fails(big, /more than 200000 elements/);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(150 * 1024 * 1024);
  });

  it('counts the nesting the parser sees, not what a regex sees: comments cannot hide depth', () => {
    fails(xmlHiddenNesting(), /nests deeper than 64 levels/);
    fails(xmlHiddenNesting(66), /nests deeper than 64 levels/);
    expect(() => parsePlist(xmlHiddenNesting(65), 'x')).not.toThrow();
    // Binary and XML count depth alike: 64 nested dictionaries holding a value are fine in both, 65 are not.
    const nestedDicts = (n: number) => {
      let v: unknown = true;
      for (let i = 0; i < n; i++) v = { k: v };
      return v as never;
    };
    for (const [n, ok] of [
      [64, true],
      [65, false],
    ] as const) {
      const xml = Buffer.from(`<plist>${'<dict><key>k</key>'.repeat(n)}<true/>${'</dict>'.repeat(n)}</plist>`);
      const bin = Buffer.from(buildBinary(nestedDicts(n)));
      for (const b of [xml, bin]) {
        if (ok) expect(() => parsePlist(b, 'x')).not.toThrow();
        else fails(b, /nests deeper than 64 levels/);
      }
    }
  });

  it('refuses entity declarations, unknown entities and elements, and malformed structure', () => {
    const wrap = (body: string) => Buffer.from(`<?xml version="1.0"?><plist version="1.0">${body}</plist>`);
    fails(Buffer.from('<!DOCTYPE plist [<!ENTITY a "aaaa">]><plist><string>&a;</string></plist>'), /own entities/);
    fails(wrap('<string>&a;</string>'), /no known entity/);
    fails(wrap('<string>&#0;</string>'), /invalid character reference/);
    fails(wrap('<script/>'), /unknown element <script>/);
    fails(wrap('<dict><key>a</key></dict>'), /without a value/);
    fails(wrap('<dict><string>a</string></dict>'), /without its <key>/);
    fails(wrap('<array><key>a</key></array>'), /<key> outside a <dict>/);
    fails(wrap('<string>a</string><string>b</string>'), /more than one value/);
    fails(wrap('<string><dict/></string>'), /inside <string>/);
    fails(wrap('<integer>12abc</integer>'), /invalid <integer>/);
    fails(wrap('<real>one</real>'), /invalid <real>/);
    fails(wrap('<date>yesterday</date>'), /invalid <date>/);
    fails(wrap('<data>!!!!</data>'), /not valid base64/);
    fails(wrap('<true>yes</true>'), /text inside <true\/>/);
    fails(wrap(''), /empty <plist>/);
    fails(Buffer.from('<dict></dict>'), /where the <plist> root element should be/);
    fails(Buffer.from('<plist><array>'), /ends inside <array>/);
    fails(Buffer.from('<plist><array></dict></plist>'), /<\/dict> where <\/array> was expected/);
    fails(Buffer.from('<plist><string>x</string></plist><plist/>'), /second root/);
    fails(Buffer.from('hello'), /text outside the root/);
    fails(Buffer.from([0x3c, 0x70, 0xff, 0xfe, 0x3e]), /not valid UTF-8/);
  });
});
