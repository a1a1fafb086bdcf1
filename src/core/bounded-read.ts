import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/** Why a bounded read refused a path; callers turn it into their own error code and wording. */
export type BoundedReadRefusal =
  | { kind: 'unreadable'; cause: unknown }
  | { kind: 'not-a-file'; what: string }
  | { kind: 'too-large'; bytes: number };

export class BoundedReadError extends Error {
  constructor(readonly refusal: BoundedReadRefusal) {
    super(refusal.kind);
    this.name = 'BoundedReadError';
  }
}

/** What a path is, for a message: "a folder", "a device" (/dev/zero), "a pipe (FIFO)". */
export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Reads a small file a user named, with bounded time and memory: only a regular file is read, and at most
 * `maxBytes` of it. `/dev/zero`, `/dev/urandom`, a FIFO or a folder are refused before a byte is read, and
 * the file is opened non-blocking so that a FIFO with no writer does not hang the open.
 */
export async function readBounded(path: string, maxBytes: number): Promise<{ bytes: Buffer; mode: number }> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (cause) {
    throw new BoundedReadError({ kind: 'unreadable', cause });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new BoundedReadError({ kind: 'not-a-file', what: kindOf(st) });
    if (st.size > maxBytes) throw new BoundedReadError({ kind: 'too-large', bytes: st.size });
    // The size from stat can lie (files under /proc say 0), so the read itself is bounded too.
    const buf = Buffer.alloc(maxBytes + 1);
    let len = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, len, buf.length - len, null);
      if (bytesRead === 0) break;
      len += bytesRead;
      if (len > maxBytes) throw new BoundedReadError({ kind: 'too-large', bytes: len });
    }
    return { bytes: buf.subarray(0, len), mode: st.mode & 0o777 };
  } finally {
    await fh.close();
  }
}
