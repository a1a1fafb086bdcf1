import { Transform } from 'node:stream';

/**
 * A shared byte-rate limit: each `take(n)` reserves the next n/rate seconds of the link and resolves when
 * that slot begins. Used for the simulator's `--bandwidth` (all uploads) and `--connection-bandwidth`.
 */
export class RateLimiter {
  private nextFree = 0;
  constructor(private readonly bytesPerSecond: number) {}

  async take(n: number): Promise<void> {
    const now = performance.now();
    const start = Math.max(now, this.nextFree);
    this.nextFree = start + (n / this.bytesPerSecond) * 1000;
    const wait = this.nextFree - now - 20; // a 20 ms burst allowance keeps timer overhead out of the rate
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** Passes bytes through at most as fast as every given limiter allows. */
export function throttled(limiters: RateLimiter[]): Transform {
  return new Transform({
    highWaterMark: 64 * 1024,
    transform(chunk: Buffer, _enc, done) {
      Promise.all(limiters.map((l) => l.take(chunk.length))).then(
        () => done(null, chunk),
        (err) => done(err as Error),
      );
    },
  });
}
