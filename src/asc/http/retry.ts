import type { Random, Sleep } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { AscNetworkError } from './errors.js';
import type { Layer, RawResponse } from './types.js';
import { SAFE_METHODS } from './types.js';

export interface RetryOptions {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** 429s wait longer: Apple documents no Retry-After and short-window limits are undocumented. */
  rateLimitBaseDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  rateLimitBaseDelayMs: 2_000,
};

/** Full-jitter exponential backoff: a random delay in [0, min(cap, base·2^n)], at least 1/4 of it. */
export function backoffDelay(attempt: number, base: number, cap: number, random: Random): number {
  const ceiling = Math.min(cap, base * 2 ** attempt);
  return Math.round(ceiling / 4 + (random() * (ceiling * 3)) / 4);
}

export function retryAfterMs(res: RawResponse, nowMs: number): number | undefined {
  const h = res.headers.get('retry-after');
  if (!h) return undefined;
  if (/^\d+$/.test(h.trim())) return Number(h) * 1000;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Retries GET/HEAD on 429, 5xx and network errors. Writes are retried on 429 only: App Store Connect refuses a
 * rate-limited request before acting on it. Any other failed write is never retried blindly: a 5xx or a write
 * that got no answer surfaces for the caller to reconcile by reading (release/reconcile.ts).
 */
export function retryLayer(
  opts: RetryOptions,
  deps: { sleep: Sleep; random: Random; now: () => number; logger: Logger },
): Layer {
  return (next) => async (req) => {
    const safe = SAFE_METHODS.has(req.method);
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= opts.maxAttempts;
      let res: RawResponse;
      try {
        res = await next({ ...req, attempt });
      } catch (err) {
        if (last || !safe || !(err instanceof AscNetworkError)) throw err;
        const delay = backoffDelay(attempt, opts.baseDelayMs, opts.maxDelayMs, deps.random);
        deps.logger.debug(`retrying ${req.method} ${req.path} in ${delay} ms after a network error`, { attempt });
        await deps.sleep(delay, req.signal);
        continue;
      }
      if (last || !retryable(res.status) || (!safe && res.status !== 429)) return res;
      const base = res.status === 429 ? opts.rateLimitBaseDelayMs : opts.baseDelayMs;
      const delay = Math.min(
        opts.maxDelayMs * 4,
        retryAfterMs(res, deps.now()) ?? backoffDelay(attempt, base, opts.maxDelayMs, deps.random),
      );
      deps.logger.debug(`retrying ${req.method} ${req.path} in ${delay} ms after HTTP ${res.status}`, { attempt });
      await deps.sleep(delay, req.signal);
    }
  };
}
