import { PlistLimitError, type PlistLimits, type PlistValue } from './plist-types.js';

/**
 * A strict reader of XML property lists: one linear pass over the text with an explicit stack (no
 * recursion, no DOM), counting elements, depth and text bytes as it goes, so a hostile file fails early
 * and within bounded memory. Only the plist vocabulary is understood (plist, dict, key, array, string,
 * integer, real, true, false, date, data); comments, processing instructions and the DOCTYPE line are
 * skipped, CDATA is text, and a DOCTYPE with an internal subset (entity declarations) is refused, so no
 * entity ever expands beyond the five predefined ones and character references.
 */
export class XmlPlistError extends Error {}

const LEAVES = new Set(['key', 'string', 'integer', 'real', 'date', 'data', 'true', 'false']);

interface Frame {
  tag: string;
  /** For dict/array/plist: the values so far. */
  items?: PlistValue[];
  dict?: { [k: string]: PlistValue };
  pendingKey?: string | null;
  /** For leaves: the text so far. */
  text?: string[];
  textBytes?: number;
}

/**
 * A start tag at a given offset (sticky): its name, then attributes up to ">", where a ">" inside a quoted
 * value does not end the tag. The alternatives start with different characters, so matching is linear.
 */
const START_TAG = /<([A-Za-z_][A-Za-z0-9_.:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/y;

const ENTITY = /&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);|&/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (_m, name: string | undefined) => {
    if (name === undefined) throw new XmlPlistError('has an "&" that starts no known entity');
    if (name[0] !== '#') return NAMED[name]!;
    const cp = name[1] === 'x' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
    if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      throw new XmlPlistError(`has an invalid character reference &${name};`);
    return String.fromCodePoint(cp);
  });
}

/** Text of a UTF-8 (or BOM-marked UTF-16) document; invalid UTF-8 is an error, not replacement characters. */
export function decodeXmlText(b: Uint8Array): string {
  if (b[0] === 0xfe && b[1] === 0xff) return Buffer.from(b.subarray(2)).swap16().toString('utf16le');
  if (b[0] === 0xff && b[1] === 0xfe) return Buffer.from(b.buffer, b.byteOffset + 2, b.length - 2).toString('utf16le');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(b);
  } catch {
    throw new XmlPlistError('is not valid UTF-8');
  }
}

export function parseXmlPlist(text: string, limits: PlistLimits): PlistValue {
  return new XmlReader(text, limits).read();
}

class XmlReader {
  private i = 0;
  private readonly stack: Frame[] = [];
  private elements = 0;
  private bytes = 0;
  private root: PlistValue | undefined;
  private seenRoot = false;

  constructor(
    private readonly s: string,
    private readonly limits: PlistLimits,
  ) {}

  read(): PlistValue {
    const s = this.s;
    while (this.i < s.length) {
      const lt = s.indexOf('<', this.i);
      const end = lt === -1 ? s.length : lt;
      if (end > this.i) this.text(s.slice(this.i, end), true);
      if (lt === -1) break;
      this.i = lt;
      this.markup();
    }
    if (this.stack.length) throw new XmlPlistError(`ends inside <${this.stack.at(-1)!.tag}> (truncated?)`);
    if (!this.seenRoot) throw new XmlPlistError('has no <plist> root element');
    if (this.root === undefined) throw new XmlPlistError('has an empty <plist>');
    return this.root;
  }

  private until(marker: string, from: number, what: string): number {
    const at = this.s.indexOf(marker, from);
    if (at === -1) throw new XmlPlistError(`has an unterminated ${what}`);
    return at;
  }

  private markup(): void {
    const s = this.s;
    const i = this.i;
    if (s.startsWith('<?', i)) {
      this.i = this.until('?>', i + 2, 'processing instruction') + 2;
    } else if (s.startsWith('<!--', i)) {
      this.i = this.until('-->', i + 4, 'comment') + 3;
    } else if (s.startsWith('<![CDATA[', i)) {
      const end = this.until(']]>', i + 9, 'CDATA section');
      this.text(s.slice(i + 9, end), false);
      this.i = end + 3;
    } else if (s.startsWith('<!', i)) {
      this.doctype();
    } else if (s[i + 1] === '/') {
      const end = this.until('>', i, 'end tag');
      this.close(s.slice(i + 2, end).trim());
      this.i = end + 1;
    } else {
      this.startTag();
    }
  }

  private doctype(): void {
    if (this.seenRoot || this.stack.length) throw new XmlPlistError('has a declaration inside the document');
    const end = this.until('>', this.i, 'declaration');
    const decl = this.s.slice(this.i, end);
    if (!decl.startsWith('<!DOCTYPE')) throw new XmlPlistError('has an unknown declaration');
    // An internal subset may declare entities (the "billion laughs"); Apple's plists never carry one.
    if (decl.includes('[')) throw new XmlPlistError('declares its own entities (DOCTYPE internal subset)');
    this.i = end + 1;
  }

  private startTag(): void {
    START_TAG.lastIndex = this.i;
    const m = START_TAG.exec(this.s);
    if (!m) {
      const name = /^<([A-Za-z_][A-Za-z0-9_.:-]*)/.exec(this.s.slice(this.i, this.i + 64))?.[1];
      throw new XmlPlistError(name ? `has an unterminated <${name}> tag` : `has a stray "<" at offset ${this.i}`);
    }
    const name = m[1]!;
    this.i = START_TAG.lastIndex;
    this.open(name);
    if (m[2]!.endsWith('/')) this.close(name);
  }

  private open(tag: string): void {
    if (++this.elements > this.limits.maxNodes)
      throw new PlistLimitError(`has more than ${this.limits.maxNodes} elements`);
    // The <plist> element is not a level: its value is at depth 0, as a binary plist's top object is.
    if (this.stack.length - 1 > this.limits.maxDepth)
      throw new PlistLimitError(`nests deeper than ${this.limits.maxDepth} levels`);
    const parent = this.stack.at(-1);
    if (!parent) {
      if (tag !== 'plist') throw new XmlPlistError(`has <${tag}> where the <plist> root element should be`);
      if (this.seenRoot) throw new XmlPlistError('has a second root element');
      this.seenRoot = true;
      this.stack.push({ tag, items: [] });
      return;
    }
    if (parent.text) throw new XmlPlistError(`has <${tag}> inside <${parent.tag}>`);
    if (tag === 'dict') this.stack.push({ tag, dict: Object.create(null), pendingKey: null });
    else if (tag === 'array') this.stack.push({ tag, items: [] });
    else if (LEAVES.has(tag)) this.stack.push({ tag, text: [], textBytes: 0 });
    else throw new XmlPlistError(`has an unknown element <${tag}>`);
  }

  private text(raw: string, decode: boolean): void {
    const top = this.stack.at(-1);
    const t = decode ? decodeEntities(raw) : raw;
    if (!top?.text) {
      if (/\S/.test(t))
        throw new XmlPlistError(`has text ${top ? `directly inside <${top.tag}>` : 'outside the root'}`);
      return;
    }
    if (top.tag === 'true' || top.tag === 'false') {
      if (/\S/.test(t)) throw new XmlPlistError(`has text inside <${top.tag}/>`);
      return;
    }
    this.bytes += t.length;
    if (this.bytes > this.limits.maxExpandedBytes)
      throw new PlistLimitError(`holds more than ${this.limits.maxExpandedBytes} bytes of text`);
    top.text.push(t);
  }

  private close(tag: string): void {
    const top = this.stack.pop();
    if (!top) throw new XmlPlistError(`has </${tag}> with nothing open`);
    if (top.tag !== tag) throw new XmlPlistError(`has </${tag}> where </${top.tag}> was expected`);
    if (top.tag === 'plist') {
      if (top.items!.length > 1) throw new XmlPlistError('holds more than one value in <plist>');
      this.root = top.items![0];
      return;
    }
    if (top.tag === 'dict' && top.pendingKey !== null)
      throw new XmlPlistError(`has key "${top.pendingKey}" without a value`);
    const value = top.dict ?? top.items ?? leafValue(top.tag, top.text!.join(''));
    const parent = this.stack.at(-1)!;
    if (parent.dict) {
      if (top.tag === 'key') {
        if (parent.pendingKey !== null) throw new XmlPlistError(`has key "${parent.pendingKey}" without a value`);
        parent.pendingKey = value as string;
        return;
      }
      if (parent.pendingKey === null || parent.pendingKey === undefined)
        throw new XmlPlistError(`has a <${top.tag}> in a <dict> without its <key>`);
      parent.dict[parent.pendingKey] = value;
      parent.pendingKey = null;
      return;
    }
    if (top.tag === 'key') throw new XmlPlistError('has a <key> outside a <dict>');
    parent.items!.push(value);
  }
}

const INTEGER = /^[+-]?(?:\d+|0x[0-9a-fA-F]+)$/;
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function leafValue(tag: string, raw: string): PlistValue {
  switch (tag) {
    case 'key':
    case 'string':
      return raw;
    case 'true':
      return true;
    case 'false':
      return false;
    case 'integer': {
      const t = raw.trim();
      const neg = t.startsWith('-');
      const body = t.replace(/^[+-]/, '');
      const v = INTEGER.test(t) && body.length <= 20 ? Number(body) : Number.NaN;
      if (!Number.isFinite(v)) throw new XmlPlistError(`has an invalid <integer> "${t.slice(0, 40)}"`);
      return neg ? -v : v;
    }
    case 'real': {
      const t = raw.trim().toLowerCase();
      const special: Record<string, number> = { nan: Number.NaN, inf: Infinity, '+inf': Infinity, '-inf': -Infinity };
      if (t in special) return special[t]!;
      const v = t.length <= 64 && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t) ? Number(t) : Number.NaN;
      if (Number.isNaN(v)) throw new XmlPlistError(`has an invalid <real> "${t.slice(0, 40)}"`);
      return v;
    }
    case 'date': {
      const t = raw.trim();
      const d = DATE.test(t) ? new Date(t) : undefined;
      if (!d || Number.isNaN(d.getTime())) throw new XmlPlistError(`has an invalid <date> "${t.slice(0, 40)}"`);
      return d;
    }
    default: {
      const b64 = raw.replace(/\s+/g, '');
      if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64))
        throw new XmlPlistError('has a <data> element that is not valid base64');
      return new Uint8Array(Buffer.from(b64, 'base64'));
    }
  }
}
