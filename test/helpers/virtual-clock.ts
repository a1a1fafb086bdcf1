import type { Clock, Sleep } from '../../src/core/clock.js';

/**
 * Virtual time for many concurrent sleepers. FakeClock advances by every sleep it is asked for, so eight
 * workers sleeping one second move it eight seconds; here a sleep waits until the clock reaches its wake-up
 * time, and the clock jumps to the earliest wake-up only once the process has nothing else to run (two
 * turns of the event loop with no progress). In-process work is then fully deterministic; with real I/O
 * in flight, time still moves only as far as the earliest sleeper needs.
 */
export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];
  private timers: { at: number; seq: number; wake: () => void }[] = [];
  private seq = 0;
  private pending = false;

  constructor(private t = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.t;
  }

  readonly sleep: Sleep = (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      this.sleeps.push(ms);
      const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, wake: resolve };
      this.timers.push(timer);
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          reject(signal.reason);
        },
        { once: true },
      );
      this.schedule();
    });

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(() =>
      setImmediate(() => {
        this.pending = false;
        const next = this.timers.shift();
        if (!next) return;
        this.t = Math.max(this.t, next.at);
        next.wake();
        if (this.timers.length) this.schedule();
      }),
    );
  }
}
