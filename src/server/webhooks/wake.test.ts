import { describe, expect, it } from 'vitest';
import { FakeClock, type Sleep } from '../../core/clock.js';
import { createWaiter, WakeBus, wakeKey } from './wake.js';

/** A sleep that ends only when the test says so (or is aborted): nothing here depends on wall-clock time. */
function manualSleep() {
  const calls: { ms: number; end: () => void; aborted: () => boolean }[] = [];
  const sleep: Sleep = (ms, signal) =>
    new Promise((resolve, reject) => {
      const c = { ms, end: resolve, aborted: () => Boolean(signal?.aborted) };
      calls.push(c);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  return { sleep, calls };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('wakeable sleep', () => {
  const key = wakeKey('team_1', 'com.example.app');

  it('ends a sleep early when an event for its key arrives, and stops the base sleep', async () => {
    const bus = new WakeBus();
    const base = manualSleep();
    const w = createWaiter({ base: base.sleep, clock: new FakeClock(), key, bus });
    let done = false;
    const p = w.sleep(15_000).then(() => {
      done = true;
    });
    await tick();
    bus.wake(wakeKey('team_1', 'com.example.other'));
    bus.wake(wakeKey('team_2', 'com.example.app'));
    await tick();
    expect(done).toBe(false);
    bus.wake(key);
    await p;
    expect(base.calls[0]!.aborted()).toBe(true);
    w.close();
    expect(bus.size).toBe(0);
  });

  it('sleeps its full time when no event comes (the poll goes on as before)', async () => {
    const base = manualSleep();
    const w = createWaiter({ base: base.sleep, clock: new FakeClock(), key, bus: new WakeBus() });
    let done = false;
    const p = w.sleep(1000).then(() => {
      done = true;
    });
    await tick();
    expect(base.calls.map((c) => c.ms)).toEqual([1000]);
    expect(done).toBe(false);
    base.calls[0]!.end();
    await p;
    w.close();
  });

  it('keeps an event that arrives between two sleeps for the next one, once', async () => {
    const bus = new WakeBus();
    const base = manualSleep();
    const w = createWaiter({ base: base.sleep, clock: new FakeClock(), key, bus });
    bus.wake(key);
    bus.wake(key);
    await w.sleep(5000); // ends at once: the event came while the poll was reading
    expect(base.calls).toHaveLength(0);
    const p = w.sleep(5000);
    await tick();
    expect(base.calls).toHaveLength(1); // two events end one sleep, not two
    base.calls[0]!.end();
    await p;
    w.close();
  });

  it('passes a cancel through: an aborted deploy stops sleeping with its reason', async () => {
    const base = manualSleep();
    const w = createWaiter({ base: base.sleep, clock: new FakeClock(), key, bus: new WakeBus() });
    const ac = new AbortController();
    const p = w.sleep(5000, ac.signal);
    await tick();
    ac.abort(new Error('cancelled'));
    await expect(p).rejects.toThrow('cancelled');
    w.close();
  });

  it('across processes: wakes when the database shows an event handled since the last sleep ended', async () => {
    const clock = new FakeClock();
    const asked: number[] = [];
    let handledAt = Number.POSITIVE_INFINITY;
    const w = createWaiter({
      base: clock.sleep,
      clock,
      key,
      checkMs: 500,
      handledSince: async (since) => {
        asked.push(since);
        return handledAt >= since && handledAt <= clock.now();
      },
    });
    const start = clock.now();
    handledAt = start + 1200; // another process handled an event 1.2 s into a 10 s wait
    await w.sleep(10_000);
    expect(clock.now() - start).toBe(1500); // the first check after the event, not the full 10 s
    expect(clock.sleeps).toEqual([500, 500, 500]);
    // The next sleep does not wake for the same event again.
    const before = clock.now();
    await w.sleep(2000);
    expect(clock.now() - before).toBe(2000);
    expect(asked.every((s) => s >= start)).toBe(true);
  });
});
