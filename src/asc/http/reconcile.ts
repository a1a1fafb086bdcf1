import { DEFAULT_RETRY_POLICY, decide, type Outcome, type RequestKind } from '../../core/policy.js';
import type { AscClient } from './client.js';
import { AscApiError, AscNetworkError } from './errors.js';

function outcomeOf(err: unknown): Outcome | undefined {
  if (err instanceof AscNetworkError) return { kind: 'no-answer' };
  if (err instanceof AscApiError) return { kind: 'answer', status: err.status };
  return undefined;
}

/**
 * What the shared policy says after a failed write of `kind`: 'reconcile' (read before sending again),
 * 'resend', or 'final'. The HTTP layer has already waited out 429s, so only lost answers and 5xx reach here.
 */
function afterFailure(kind: RequestKind, err: unknown): 'reconcile' | 'resend' | 'final' {
  const outcome = outcomeOf(err);
  // A 429 that reaches here has outlived the HTTP layer's own waits: the budget is spent, so it is final.
  if (!outcome || (outcome.kind === 'answer' && outcome.status === 429)) return 'final';
  // Attempt 0 and no randomness: only the action matters here; the attempts are counted by the callers.
  return decide(kind, outcome, 0, DEFAULT_RETRY_POLICY, () => 0).action;
}

/** A write whose answer may have been lost: no answer at all, or a 5xx after Apple may have applied it. */
function isAmbiguous(err: unknown): boolean {
  return afterFailure('create', err) === 'reconcile';
}

/**
 * Performs a write that is never blindly retried: after an ambiguous failure the current state is read, and
 * the write is sent again only if it did not land.
 */
export async function writeOnce<T>(
  client: Pick<AscClient, 'pause'>,
  write: () => Promise<T>,
  find: () => Promise<T | undefined>,
  attempts = 4,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await write();
    } catch (err) {
      if (!isAmbiguous(err) || i >= attempts) throw err;
      // Backing off first also gives App Store Connect time to show a write that did land.
      await client.pause(i - 1);
      const landed = await find();
      if (landed !== undefined) return landed;
    }
  }
}

/**
 * A write that sets a value (a PATCH of an attribute or a to-one link, adding a linkage that may exist):
 * applying it twice is the same as once, so after an ambiguous failure it is simply sent again.
 */
export async function idempotentWrite<T>(
  client: Pick<AscClient, 'pause'>,
  write: () => Promise<T>,
  attempts = 4,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await write();
    } catch (err) {
      if (afterFailure('idempotent', err) !== 'resend' || i >= attempts) throw err;
      await client.pause(i - 1);
    }
  }
}
