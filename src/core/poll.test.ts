import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.js';
import { pollUntil } from './poll.js';

describe('pollUntil', () => {
  it('backs off 1 s × 1.5 up to 15 s and returns the first value that is done', async () => {
    const clock = new FakeClock();
    let n = 0;
    const v = await pollUntil(
      async () => ++n,
      (x) => x === 10,
      { deadline: clock.now() + 3_600_000, clock, sleep: clock.sleep, onDeadline: () => new Error('late') },
    );
    expect(v).toBe(10);
    expect(clock.sleeps).toEqual([1000, 1500, 2250, 3375, 5063, 7595, 11393, 15000, 15000]);
  });

  it('never sleeps past the deadline, then throws the deadline error with the last value', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    await expect(
      pollUntil(
        async () => 'PROCESSING',
        () => false,
        { deadline: start + 4000, clock, sleep: clock.sleep, onDeadline: (last) => new Error(`still ${last}`) },
      ),
    ).rejects.toThrow('still PROCESSING');
    expect(clock.now() - start).toBe(4000);
    expect(clock.sleeps).toEqual([1000, 1500, 1500]);
  });
});
