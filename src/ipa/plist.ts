import { AscendError } from '../core/errors.js';
import { BplistError, parseBinaryPlist } from './bplist.js';
import {
  DEFAULT_PLIST_LIMITS,
  type PlistDict,
  PlistLimitError,
  type PlistLimits,
  type PlistValue,
} from './plist-types.js';
import { decodeXmlText, parseXmlPlist, XmlPlistError } from './xplist.js';

export type { PlistDict, PlistLimits, PlistValue } from './plist-types.js';
export { DEFAULT_PLIST_LIMITS } from './plist-types.js';

export const MAX_PLIST_BYTES = 8 * 1024 * 1024;
export const MAX_PLIST_DEPTH = DEFAULT_PLIST_LIMITS.maxDepth;

/**
 * Parses a binary or XML property list with our own strict readers (src/ipa/bplist.ts, src/ipa/xplist.ts):
 * declared size, expanded size (values and bytes), depth and cycles are all bounded while reading, so a
 * hostile plist gives a one-line PLIST_INVALID instead of exhausting memory or the stack.
 */
export function parsePlist(
  buf: Uint8Array,
  origin: string,
  limits: PlistLimits = DEFAULT_PLIST_LIMITS,
): { value: PlistValue; format: 'binary' | 'xml' } {
  if (buf.length > MAX_PLIST_BYTES) throw bad(origin, `is ${buf.length} bytes; at most ${MAX_PLIST_BYTES} are read`);
  if (buf.length === 0) throw bad(origin, 'is empty');
  const binary = Buffer.from(buf.buffer, buf.byteOffset, Math.min(8, buf.length)).toString('latin1') === 'bplist00';
  try {
    if (binary) return { value: parseBinaryPlist(buf, limits), format: 'binary' };
    return { value: parseXmlPlist(decodeXmlText(buf), limits), format: 'xml' };
  } catch (err) {
    if (err instanceof PlistLimitError) throw bad(origin, err.message, err);
    if (err instanceof BplistError) throw bad(origin, `is not a valid binary property list: it ${err.message}`, err);
    if (err instanceof XmlPlistError) throw bad(origin, `is not well-formed XML: it ${err.message}`, err);
    throw err;
  }
}

export function parsePlistDict(
  buf: Uint8Array,
  origin: string,
  limits: PlistLimits = DEFAULT_PLIST_LIMITS,
): { value: PlistDict; format: 'binary' | 'xml' } {
  const { value, format } = parsePlist(buf, origin, limits);
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
