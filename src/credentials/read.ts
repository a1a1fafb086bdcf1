import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
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
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (cause) {
    throw new AscendError('KEY_FILE_NOT_FOUND', `${origin} names ${path}, which cannot be read`, { cause });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      throw new AscendError('KEY_FILE_NOT_REGULAR', `${origin} names ${path}, which is ${kindOf(st)}, not a file`);
    }
    if (st.size > MAX_KEY_BYTES) throw tooLarge(origin, path, st.size);
    // The size from stat can lie (files under /proc say 0), so the read itself is bounded too.
    const buf = Buffer.alloc(MAX_KEY_BYTES + 1);
    let len = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, len, buf.length - len, null);
      if (bytesRead === 0) break;
      len += bytesRead;
      if (len > MAX_KEY_BYTES) throw tooLarge(origin, path, len);
    }
    return { text: buf.subarray(0, len).toString('utf8'), mode: st.mode & 0o777 };
  } finally {
    await fh.close();
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

function kindOf(st: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** True when a key file's mode lets the group or others read it (POSIX only; Windows has no such bits). */
export function readableByOthers(mode: number, platform: NodeJS.Platform = process.platform): boolean {
  return platform !== 'win32' && (mode & 0o044) !== 0;
}
