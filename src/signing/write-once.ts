import { AscApiError, AscNetworkError } from '../asc/http/errors.js';
import { DEFAULT_RETRY_POLICY, decide, type Outcome } from '../core/policy.js';

/**
 * A create that is never blindly re-sent (src/core/policy.ts): when its answer is lost (no answer, or a 5xx
 * after Apple may have applied it), the current state is read and the create is sent again only if it did not
 * land. The same rule as src/release/reconcile.ts, which this room may not import.
 */
export async function createOnce<T>(
  create: () => Promise<T>,
  find: () => Promise<T | undefined>,
  attempts = 3,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await create();
    } catch (err) {
      if (!isAmbiguous(err) || i >= attempts) throw err;
      const landed = await find();
      if (landed !== undefined) return landed;
    }
  }
}

export function isAmbiguous(err: unknown): boolean {
  let outcome: Outcome;
  if (err instanceof AscNetworkError) outcome = { kind: 'no-answer' };
  else if (err instanceof AscApiError && err.status !== 429) outcome = { kind: 'answer', status: err.status };
  else return false;
  return decide('create', outcome, 0, DEFAULT_RETRY_POLICY, () => 0).action === 'reconcile';
}
