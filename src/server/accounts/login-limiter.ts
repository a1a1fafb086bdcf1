import type { Clock } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';

export interface LimiterPolicy {
  /** Failures allowed per account within the window before it is locked until the window passes. */
  perUser: number;
  /** Failures allowed per client address within the window (one address trying many accounts). */
  perIp: number;
  windowMs: number;
  /** Most subjects tracked at once; the oldest are dropped, so a flood of addresses cannot exhaust memory. */
  maxEntries: number;
}

export const DEFAULT_LIMITS: LimiterPolicy = { perUser: 5, perIp: 20, windowMs: 15 * 60_000, maxEntries: 10_000 };

interface Entry {
  failures: number[];
}

/**
 * Failed sign-ins counted per account and per address in a sliding window (OWASP's authentication cheat
 * sheet: throttle both). In memory: one server process answers sign-ins; workers never do.
 */
export class LoginLimiter {
  private readonly entries = new Map<string, Entry>();
  constructor(
    private readonly clock: Clock,
    private readonly policy: LimiterPolicy = DEFAULT_LIMITS,
  ) {}

  private recent(key: string): number[] {
    const e = this.entries.get(key);
    if (!e) return [];
    const since = this.clock.now() - this.policy.windowMs;
    e.failures = e.failures.filter((t) => t > since);
    if (e.failures.length === 0) this.entries.delete(key);
    return e.failures;
  }

  /** Throws SIGN_IN_THROTTLED, naming when to retry, before the password is even checked. */
  check(user: string, ip: string): void {
    for (const [key, limit] of [
      [`u:${user.toLowerCase()}`, this.policy.perUser],
      [`i:${ip}`, this.policy.perIp],
    ] as const) {
      const failures = this.recent(key);
      if (failures.length >= limit) {
        const until = new Date(failures[failures.length - limit]! + this.policy.windowMs).toISOString();
        throw new AscendError('SIGN_IN_THROTTLED', `too many failed sign-ins; try again after ${until}`, {
          details: { retryAt: until },
        });
      }
    }
  }

  recordFailure(user: string, ip: string): void {
    for (const key of [`u:${user.toLowerCase()}`, `i:${ip}`]) {
      const failures = this.recent(key);
      failures.push(this.clock.now());
      this.entries.delete(key);
      this.entries.set(key, { failures });
    }
    while (this.entries.size > this.policy.maxEntries) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  /** A good password clears the account's count (not the address's: it may be guessing other accounts). */
  recordSuccess(user: string): void {
    this.entries.delete(`u:${user.toLowerCase()}`);
  }

  get size(): number {
    return this.entries.size;
  }
}
