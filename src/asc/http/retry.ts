import type { Random, Sleep } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { DEFAULT_RETRY_POLICY, decide, type Outcome, type RetryPolicy, transportKind } from '../../core/policy.js';
import { AscNetworkError } from './errors.js';
import type { Layer, RawResponse } from './types.js';

export type RetryOptions = RetryPolicy;
export const DEFAULT_RETRY: RetryOptions = DEFAULT_RETRY_POLICY;

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored, not guessed at. */
export function retryAfterMs(res: RawResponse, nowMs: number): number | undefined {
  const h = res.headers.get('retry-after')?.trim();
  if (!h) return undefined;
  if (/^\d+$/.test(h)) return Number(h) * 1000;
  if (!/GMT$/.test(h)) return undefined;
  const at = Date.parse(h);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * Re-sends what the shared policy (core/policy.ts) allows the HTTP layer to: reads after 429, 5xx and network
 * errors; writes after a 429 only, since App Store Connect refuses a rate-limited request before acting on it.
 * Any other failed write surfaces for the caller to reconcile by reading (asc/http/reconcile.ts).
 */
export function retryLayer(
  opts: RetryOptions,
  deps: { sleep: Sleep; random: Random; now: () => number; logger: Logger },
): Layer {
  return (next) => async (req) => {
    const kind = transportKind(req.method);
    for (let attempt = 0; ; attempt++) {
      let res: RawResponse | undefined;
      let outcome: Outcome;
      try {
        res = await next({ ...req, attempt });
        outcome = { kind: 'answer', status: res.status, retryAfterMs: retryAfterMs(res, deps.now()) };
      } catch (err) {
        if (!(err instanceof AscNetworkError)) throw err;
        outcome = { kind: 'no-answer' };
        const d = decide(kind, outcome, attempt, opts, deps.random);
        if (d.action !== 'resend') throw err;
        deps.logger.debug(`retrying ${req.method} ${req.path} in ${d.delayMs} ms after a network error`, { attempt });
        await deps.sleep(d.delayMs, req.signal);
        continue;
      }
      const d = decide(kind, outcome, attempt, opts, deps.random);
      if (d.action !== 'resend') return res;
      deps.logger.debug(`retrying ${req.method} ${req.path} in ${d.delayMs} ms after HTTP ${res.status}`, { attempt });
      await deps.sleep(d.delayMs, req.signal);
    }
  };
}
