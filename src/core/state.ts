import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { BoundedReadError, readBounded } from './bounded-read.js';
import { AscendError } from './errors.js';

/** Resumable state is small (an upload's operations for a 4 GiB file are about 1 MB); more is not ours. */
const MAX_STATE_BYTES = 64 * 1024 * 1024;

/**
 * Where long-running work keeps its resumable state (DESIGN §2): a JSON file per key for the CLI, a database
 * for the server. Values are plain JSON.
 */
export interface StateStore {
  get<T>(key: string): Promise<T | undefined>;
  put<T>(key: string, value: T): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * One owner-only JSON file per key, written atomically (temporary file, then rename). Operations run one
 * after another, so a late write can never overtake a delete.
 */
export class JsonFileStateStore implements StateStore {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(readonly dir: string) {}

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => {});
    return next;
  }

  private path(key: string): string {
    return join(this.dir, `${fileNameOf(key)}.json`);
  }

  /** The file that holds `key`, for remedies that ask a person to look at or remove it. */
  pathOf(key: string): string {
    return this.path(key);
  }

  async get<T>(key: string): Promise<T | undefined> {
    let text: string;
    try {
      text = (await readBounded(this.path(key), MAX_STATE_BYTES)).bytes.toString('utf8');
    } catch (err) {
      // Only a missing file means "no state": an unreadable one must not pass for none (a run would then take
      // its own upload for someone else's).
      const r = err instanceof BoundedReadError ? err.refusal : undefined;
      if (r?.kind === 'unreadable' && (r.cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      const why =
        r?.kind === 'too-large'
          ? `holds ${r.bytes} bytes or more`
          : r?.kind === 'not-a-file'
            ? `is ${r.what}`
            : `cannot be read (${(r?.kind === 'unreadable' ? (r.cause as Error) : (err as Error)).message})`;
      throw new AscendError('STATE_FILE_INVALID', `${this.path(key)} ${why}`, {
        cause: err,
        remedy: `Check the permissions of ${this.dir}, or delete ${this.path(key)}, then run the command again.`,
      });
    }
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new AscendError('STATE_FILE_INVALID', `${this.path(key)} is damaged`, {
        cause,
        remedy: `Delete ${this.path(key)}, then run the command again.`,
      });
    }
  }

  put<T>(key: string, value: T): Promise<void> {
    const text = JSON.stringify(value);
    return this.serial(async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.path(key), text, 0o600);
    });
  }

  delete(key: string): Promise<void> {
    return this.serial(() => rm(this.path(key), { force: true }));
  }
}

/**
 * A file name that only one key maps to: letters, digits, dot and dash stay (so existing state files keep
 * their names), every other UTF-8 byte becomes `_xx`. Names too long for a file system become a hash.
 */
export function fileNameOf(key: string): string {
  let name = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    name += /[A-Za-z0-9.-]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  // '~' never appears in an encoded name, so a hashed name cannot equal one.
  return name.length > 200 ? `~${createHash('sha256').update(key).digest('hex')}` : name;
}

/** For tests and the in-process demo. */
export class MemoryStateStore implements StateStore {
  readonly data = new Map<string, string>();
  async get<T>(key: string): Promise<T | undefined> {
    const v = this.data.get(key);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v) as T;
    } catch (cause) {
      throw new AscendError('STATE_FILE_INVALID', `the saved state ${JSON.stringify(key)} is damaged`, { cause });
    }
  }
  async put<T>(key: string, value: T): Promise<void> {
    this.data.set(key, JSON.stringify(value));
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
}
