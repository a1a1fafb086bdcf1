import type { Clock, Sleep } from '../../core/clock.js';

/** The key waiters and wakers agree on: a team's app, by bundle id (what a deploy knows from its artifact). */
export const wakeKey = (teamId: string, bundleId: string): string => `${teamId}\n${bundleId}`;

/** In-process wake-ups: the webhook job wakes the deploys of this process that wait on the app. */
export class WakeBus {
  private readonly listeners = new Map<string, Set<() => void>>();

  on(key: string, fn: () => void): () => void {
    let set = this.listeners.get(key);
    if (!set) {
      set = new Set();
      this.listeners.set(key, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  wake(key: string): void {
    for (const fn of [...(this.listeners.get(key) ?? [])]) fn();
  }

  /** Listeners now, for tests and shutdown checks. */
  get size(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
}

export interface WaiterOptions {
  base: Sleep;
  clock: Clock;
  key: string;
  bus?: WakeBus;
  /**
   * Across processes (scale-out on PostgreSQL): whether an event for the key was handled at or after the
   * time given; asked every `checkMs` while sleeping.
   */
  handledSince?: (since: number) => Promise<boolean>;
  checkMs?: number;
}

export interface Waiter {
  /** A Sleep that ends early when an event for the key arrives, else after `ms` as the base sleep does. */
  readonly sleep: Sleep;
  /** Stops listening (the deploy's run ended). */
  close(): void;
}

/**
 * A deploy's sleep, wakeable by webhook events. Polls keep their schedule and their deadline, so nothing
 * depends on a delivery: an event only ends the current wait early and the poll re-reads Apple. An event
 * that arrives between two sleeps (while the poll reads) is not lost: the next sleep ends at once. One
 * event ends at most one sleep, so a burst of events cannot turn the poll into a busy loop.
 */
export function createWaiter(o: WaiterOptions): Waiter {
  let pending = false;
  let current: (() => void) | undefined;
  // Events handled after the end of the last sleep are news to the poll that followed it.
  let since = o.clock.now();
  const off =
    o.bus?.on(o.key, () => {
      if (current) current();
      else pending = true;
    }) ?? (() => {});

  const watch = async (ms: number, signal: AbortSignal, from: number): Promise<void> => {
    const end = o.clock.now() + ms;
    for (;;) {
      const left = end - o.clock.now();
      if (left <= 0) return;
      await o.base(Math.min(o.checkMs ?? 500, left), signal);
      if (await o.handledSince!(from)) return;
    }
  };

  const sleep: Sleep = async (ms, signal) => {
    if (signal?.aborted) throw signal.reason;
    const from = since;
    if (pending || (o.handledSince && (await o.handledSince(from)))) {
      pending = false;
      since = o.clock.now();
      return;
    }
    const stop = new AbortController();
    const inner = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    const woken = new Promise<void>((resolve) => {
      current = resolve;
    });
    const sleeping = o.handledSince ? watch(ms, inner, from) : o.base(ms, inner);
    try {
      await Promise.race([sleeping, woken]);
    } finally {
      current = undefined;
      stop.abort();
      // The base sleep rejects once stopped; that rejection is ours, not the caller's.
      sleeping.catch(() => {});
      since = o.clock.now();
    }
  };
  return { sleep, close: off };
}
