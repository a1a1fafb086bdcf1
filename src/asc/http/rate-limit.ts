import { type Clock, realSleep, type Sleep } from '../../core/clock.js';
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
  private pausedUntil = 0;
  private consecutive = 0;
  /** Counts pauses begun; a request remembers the one current when it was sent. */
  private epoch = 0;
  /** 429 answers seen, for tests and benchmarks. */
  limited = 0;
  constructor(
    private readonly clock: Clock,
    private readonly sleep: Sleep = realSleep,
  ) {}

  get budget(): RateBudget {
    return { ...this.state };
  }

  observe(header: string | null): void {
    const parsed = parseRateLimit(header);
    if (parsed) this.state = { ...parsed, seenAt: this.clock.now() };
  }

  /**
   * Every client of the key goes through here: after a 429 the whole key pauses (exponential, capped) instead
   * of each request hammering Apple on its own schedule; a success ends the pause. The requests already in
   * flight when the quota ran out come back 429 together: they belong to the pause already begun and do not
   * lengthen it, or eight parallel deploys would turn one exhausted quota into a 2^8-second wait.
   */
  layer(): Layer {
    return (next) => async (req) => {
      for (let wait = this.pausedUntil - this.clock.now(); wait > 0; wait = this.pausedUntil - this.clock.now()) {
        await this.sleep(wait, req.signal);
      }
      const epoch = this.epoch;
      const res = await next(req);
      this.observe(res.headers.get('x-rate-limit'));
      if (res.status === 429) {
        this.limited++;
        if (epoch === this.epoch) {
          this.epoch++;
          this.consecutive++;
          const delay = Math.min(60_000, 1000 * 2 ** (this.consecutive - 1));
          this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + delay);
        }
      } else {
        this.consecutive = 0;
      }
      return res;
    };
  }
}
