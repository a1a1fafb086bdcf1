import type { Random } from '../../core/clock.js';
import type { JobHandler } from '../queue/types.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import type { Vault } from '../vault/vault.js';
import { loadDelivery, recordAttempt } from './deliveries.js';
import { jsonBody, slackBody, webhookHeaders } from './format.js';
import type { EnqueueNotify, NotifyJobPayload } from './notifier.js';
import type { Post, PostResult } from './post.js';
import { openTarget } from './targets.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay before the second attempt; doubled each time, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 10_000, maxDelayMs: 3_600_000 };

export interface NotifyJobEnv {
  store: Store;
  vault: Vault;
  deps: StoreDeps;
  post: Post;
  random: Random;
  enqueue: EnqueueNotify;
  retry?: RetryPolicy;
}

/**
 * Exponential backoff with "equal jitter": half the doubled delay is fixed, the other half random, so many
 * targets that failed together (a receiver restarting) do not all come back in the same second.
 */
export function retryDelay(p: RetryPolicy, attempt: number, random: Random): number {
  const full = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(full / 2 + (full / 2) * random());
}

/** Worth another try: no answer, a timeout, a server error, or the receiver asking us to slow down. */
function retryable(r: PostResult): boolean {
  if ('error' in r) return r.error !== 'ADDRESS_REFUSED';
  return r.statusCode >= 500 || r.statusCode === 429 || r.statusCode === 408;
}

const errorText = (r: PostResult): string | null => {
  if ('error' in r) return /^[A-Z0-9_]{1,40}$/.test(r.error) ? r.error : 'NETWORK_ERROR';
  return r.statusCode >= 200 && r.statusCode < 300 ? null : `HTTP ${r.statusCode}`;
};

/**
 * One attempt of one delivery. Each attempt is its own job: a failed one is recorded and the next is
 * enqueued with a backoff delay, so waits hold no worker and no lease, and every queue (the table queue,
 * pg-boss) behaves the same. A duplicate job (a redelivered or re-run one) finds the attempt recorded and
 * only makes sure the next one is queued.
 */
export function notifyJobHandler(env: NotifyJobEnv): JobHandler {
  const policy = env.retry ?? DEFAULT_RETRY;
  return async (job) => {
    const { teamId, deliveryId, attempt } = job.payload as NotifyJobPayload;
    const loaded = await loadDelivery(env.store, teamId, deliveryId);
    if (loaded?.row.state !== 'pending') return;
    const recorded = Number(loaded.row.attempts);
    if (recorded >= attempt) {
      // This attempt happened; a crash may have come before the next was queued.
      if (recorded === attempt && loaded.row.next_attempt_at)
        await env.enqueue({ teamId, deliveryId, attempt: attempt + 1 }, Date.parse(loaded.row.next_attempt_at));
      return;
    }
    const target = await openTarget(env.store, env.vault, teamId, loaded.row.target_id);
    const { event } = loaded;
    const startedAt = env.deps.clock.now();
    let result: PostResult;
    if (target.kind === 'slack') result = await env.post(target.url, {}, slackBody(event));
    else {
      const body = jsonBody(event);
      result = await env.post(target.url, webhookHeaders(event, deliveryId, target.secret ?? '', body), body);
    }
    const ok = 'statusCode' in result && result.statusCode >= 200 && result.statusCode < 300;
    const again = !ok && retryable(result) && attempt < policy.maxAttempts;
    const next = again ? env.deps.clock.now() + retryDelay(policy, attempt, env.random) : null;
    const won = await recordAttempt(env.store, env.deps, teamId, deliveryId, {
      attempt,
      statusCode: 'statusCode' in result ? result.statusCode : null,
      error: errorText(result),
      startedAt,
      state: ok ? 'delivered' : again ? 'pending' : 'failed',
      nextAttemptAt: next,
    });
    if (won && next !== null) await env.enqueue({ teamId, deliveryId, attempt: attempt + 1 }, next);
  };
}
