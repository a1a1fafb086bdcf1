import type { Clock, Sleep } from './clock.js';

export interface PollOptions<T> {
  /** Epoch ms: the one deadline for the whole wait. */
  deadline: number;
  clock: Clock;
  sleep: Sleep;
  signal?: AbortSignal;
  /** The error to throw when the deadline passes, given the last value read. */
  onDeadline: (last: T) => Error;
  onValue?: (value: T) => void;
}

/**
 * Reads until `done` holds, waiting 1 s and then 1.5× longer each time (at most 15 s, never past the
 * deadline). Every wait in ascend goes through here, so none can hang.
 */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, o: PollOptions<T>): Promise<T> {
  let delay = 1000;
  for (;;) {
    const value = await read();
    o.onValue?.(value);
    if (done(value)) return value;
    const left = o.deadline - o.clock.now();
    if (left <= 0) throw o.onDeadline(value);
    await o.sleep(Math.min(delay, left), o.signal);
    delay = Math.min(15_000, Math.round(delay * 1.5));
  }
}
