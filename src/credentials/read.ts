import { BoundedReadError, readBounded } from '../core/bounded-read.js';
import { AscendError } from '../core/errors.js';

/** An Apple .p8 is about 250 bytes and fastlane's key JSON about 400; anything past this is not a key. */
export const MAX_KEY_BYTES = 16 * 1024;

export interface KeyFileText {
  text: string;
  /** Permission bits, for the "readable by others" warning. */
  mode: number;
}

/**
 * Reads a key (or key JSON) file with bounded time and memory: only a regular file is read, and at most
 * MAX_KEY_BYTES of it. `/dev/zero`, `/dev/urandom`, a FIFO or a folder are refused before a byte is read;
 * the file is opened non-blocking so that opening a FIFO with no writer does not hang.
 */
export async function readKeyFileBounded(path: string, origin: string): Promise<KeyFileText> {
  try {
    const { bytes, mode } = await readBounded(path, MAX_KEY_BYTES);
    return { text: bytes.toString('utf8'), mode };
  } catch (err) {
    if (!(err instanceof BoundedReadError)) throw err;
    const r = err.refusal;
    if (r.kind === 'unreadable')
      throw new AscendError('KEY_FILE_NOT_FOUND', `${origin} names ${path}, which cannot be read`, { cause: r.cause });
    if (r.kind === 'not-a-file')
      throw new AscendError('KEY_FILE_NOT_REGULAR', `${origin} names ${path}, which is ${r.what}, not a file`);
    throw tooLarge(origin, path, r.bytes);
  }
}

/** Checks text that arrived without a file (standard input) against the same bound. */
export function checkKeyTextSize(text: string, origin: string): string {
  const size = Buffer.byteLength(text);
  if (size > MAX_KEY_BYTES) throw tooLarge(origin, 'standard input', size);
  return text;
}

function tooLarge(origin: string, what: string, size: number): AscendError {
  const shown = size > MAX_KEY_BYTES ? `more than ${MAX_KEY_BYTES / 1024} KiB` : `${size} bytes`;
  return new AscendError('KEY_FILE_TOO_LARGE', `${origin}: ${what} holds ${shown}; a .p8 key is about 250 bytes`);
}

/** True when a key file's mode lets the group or others read it (POSIX only; Windows has no such bits). */
export function readableByOthers(mode: number, platform: NodeJS.Platform = process.platform): boolean {
  return platform !== 'win32' && (mode & 0o044) !== 0;
}
