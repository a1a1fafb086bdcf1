import { AscApiError, AscNetworkError } from '../asc/http/errors.js';

/** A write whose answer may have been lost: no answer at all, or a 5xx after Apple may have applied it. */
export function isAmbiguous(err: unknown): boolean {
  return err instanceof AscNetworkError || (err instanceof AscApiError && err.status >= 500);
}

/**
 * Performs a write that is never blindly retried: after an ambiguous failure the current state is read, and
 * the write is sent once more only if it did not land.
 */
export async function writeOnce<T>(write: () => Promise<T>, find: () => Promise<T | undefined>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isAmbiguous(err)) throw err;
    const landed = await find();
    if (landed !== undefined) return landed;
    return write();
  }
}
