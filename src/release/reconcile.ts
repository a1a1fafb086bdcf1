import { AscApiError, AscNetworkError } from '../asc/http/errors.js';

/** A write whose answer may have been lost: no answer at all, or a 5xx after Apple may have applied it. */
export function isAmbiguous(err: unknown): boolean {
  return err instanceof AscNetworkError || (err instanceof AscApiError && err.status >= 500);
}

/**
 * Performs a write that is never blindly retried: after an ambiguous failure the current state is read, and
 * the write is sent again only if it did not land.
 */
export async function writeOnce<T>(
  write: () => Promise<T>,
  find: () => Promise<T | undefined>,
  attempts = 4,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await write();
    } catch (err) {
      if (!isAmbiguous(err) || i >= attempts) throw err;
      const landed = await find();
      if (landed !== undefined) return landed;
    }
  }
}

/**
 * A write that sets a value (a PATCH of an attribute or a to-one link, adding a linkage that may exist):
 * applying it twice is the same as once, so after an ambiguous failure it is simply sent again.
 */
export async function idempotentWrite<T>(write: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await write();
    } catch (err) {
      if (!isAmbiguous(err) || i >= attempts) throw err;
    }
  }
}
