import { AscendError } from '../../core/errors.js';

/** JSON columns are written by us, but a damaged row must give a clear error, not a bare SyntaxError. */
export function readJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new AscendError('STATE_FILE_INVALID', `the stored ${what} is damaged`, {
      cause,
      remedy: 'The database row was altered outside ascend; restore it from a backup or remove the record.',
    });
  }
}

/** Keyset cursors: opaque to clients, validated on the way back in. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string, length: number): string[] {
  const bad = () =>
    new AscendError('USAGE', 'the page cursor is not valid', { remedy: 'Use the `next` value of a previous page.' });
  if (cursor.length > 512) throw bad();
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parts) || parts.length !== length || !parts.every((p) => typeof p === 'string')) throw bad();
  return parts as string[];
}

/** A page size from a query string: 1–200, default 50; anything else is a USAGE error, not a failed query. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined) return 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
    throw new AscendError('USAGE', 'limit must be a whole number from 1 to 200', {
      remedy: 'Pass ?limit=50, or leave it out.',
    });
  }
  return limit;
}
