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
 * A budget kept beyond this process (the server keeps one per key in its database), so workers on several
 * machines pause together. The CLI has none: its tracker is the whole budget.
 */
export interface SharedRateBudget {
  /** Until when (ms since epoch) every client of the key holds back: a 429 seen anywhere, or a spent quota. */
  heldUntil(): Promise<number>;
  /** Apple's latest `X-Rate-Limit` numbers, for the others to see. */
  report(limit: number, remaining: number): Promise<void>;
  /** A 429 here: the others hold back until `until` too. */
  pause(until: number): Promise<void>;
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
    private readonly shared?: SharedRateBudget,
  ) {}

  /** The later of this process's pause and the shared one; a shared budget that cannot be read holds nothing. */
  private async until(): Promise<number> {
    const elsewhere = this.shared ? await this.shared.heldUntil().catch(() => 0) : 0;
    return Math.max(this.pausedUntil, elsewhere);
  }

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
      for (
        let wait = (await this.until()) - this.clock.now();
        wait > 0;
        wait = (await this.until()) - this.clock.now()
      ) {
        await this.sleep(wait, req.signal);
      }
      const epoch = this.epoch;
      const res = await next(req);
      const header = res.headers.get('x-rate-limit');
      this.observe(header);
      const parsed = this.shared ? parseRateLimit(header) : undefined;
      if (parsed) await this.shared?.report(parsed.limit, parsed.remaining).catch(() => {});
      if (res.status === 429) {
        this.limited++;
        if (epoch === this.epoch) {
          this.epoch++;
          this.consecutive++;
          const delay = Math.min(60_000, 1000 * 2 ** (this.consecutive - 1));
          this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + delay);
          await this.shared?.pause(this.pausedUntil).catch(() => {});
        }
      } else {
        this.consecutive = 0;
      }
      return res;
    };
  }
}
