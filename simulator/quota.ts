import type { Clock } from '../src/core/clock.js';

const HOUR_MS = 3_600_000;

/** Apple's per-key quota over a rolling hour, answered in `X-Rate-Limit` on every response. */
export class HourlyQuota {
  private readonly hits = new Map<string, number[]>();
  constructor(
    readonly limit: number,
    private readonly clock: Clock,
    /** Apple's window is an hour; tests shorten it to watch a quota refill. */
    private readonly windowMs = HOUR_MS,
  ) {}

  /** Counts one request; false when the quota is spent (the request is then not counted). */
  take(keyId: string): boolean {
    const now = this.clock.now();
    const list = (this.hits.get(keyId) ?? []).filter((t) => t > now - this.windowMs);
    this.hits.set(keyId, list);
    if (list.length >= this.limit) return false;
    list.push(now);
    return true;
  }

  remaining(keyId: string): number {
    const now = this.clock.now();
    return Math.max(0, this.limit - (this.hits.get(keyId) ?? []).filter((t) => t > now - this.windowMs).length);
  }

  header(keyId: string): string {
    return `user-hour-lim:${this.limit};user-hour-rem:${this.remaining(keyId)};`;
  }
}
