import type { Clock } from '../../core/clock.js';
import type { Layer } from './types.js';

export interface RateBudget {
  limit: number | undefined;
  remaining: number | undefined;
  /** When the header was last seen (ms since epoch). */
  seenAt: number | undefined;
}

/** Parses Apple's `X-Rate-Limit: user-hour-lim:3600;user-hour-rem:3599;`. */
export function parseRateLimit(header: string | null): { limit: number; remaining: number } | undefined {
  if (!header) return undefined;
  const lim = /user-hour-lim:(\d+)/.exec(header);
  const rem = /user-hour-rem:(\d+)/.exec(header);
  if (!lim || !rem) return undefined;
  return { limit: Number(lim[1]), remaining: Number(rem[1]) };
}

/**
 * Tracks the key's hourly request budget from every response. One tracker per key, shared by all
 * clients that use the key, so parallel work sees the same budget.
 */
export class RateLimitTracker {
  private state: RateBudget = { limit: undefined, remaining: undefined, seenAt: undefined };
  constructor(private readonly clock: Clock) {}

  get budget(): RateBudget {
    return { ...this.state };
  }

  observe(header: string | null): void {
    const parsed = parseRateLimit(header);
    if (parsed) this.state = { ...parsed, seenAt: this.clock.now() };
  }

  layer(): Layer {
    return (next) => async (req) => {
      const res = await next(req);
      this.observe(res.headers.get('x-rate-limit'));
      return res;
    };
  }
}
