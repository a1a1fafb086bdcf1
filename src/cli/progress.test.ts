import { describe, expect, it } from 'vitest';
import { FakeClock } from '../core/clock.js';
import { createProgress, RateWindow } from './progress.js';

const MB = 1_000_000;

function harness(mode: { json?: boolean; tty?: boolean } = {}) {
  const clock = new FakeClock();
  const lines: string[] = [];
  const progress = createProgress({
    io: { stdout: () => {}, stderr: (t) => lines.push(t), readStdin: async () => '' },
    tty: mode.tty ?? false,
    json: mode.json ?? false,
    quiet: false,
    now: () => clock.now(),
    everyMs: 0,
  });
  return { clock, lines, progress };
}

describe('upload progress', () => {
  it('says nothing about speed or ETA on the first readings, instead of "0% ETA 0s" and a burst speed', () => {
    const { clock, lines, progress } = harness();
    progress.progress(0, 84 * MB, { sending: 0 });
    clock.advance(200);
    // Twelve parts read into sockets at once: "sending", not done.
    progress.progress(0, 84 * MB, { sending: 15 * MB });
    expect(lines[0]).toBe('upload: 0% 0.0/84.0 MB  measuring speed\n');
    expect(lines[1]).toBe('upload: 0% 0.0/84.0 MB (+15.0 MB sending)  measuring speed\n');
    expect(lines.join('')).not.toMatch(/ETA|MB\/s/);
  });

  it('at 2 MB/s acknowledged, shows 2.0 MB/s and the matching ETA over the moving window', () => {
    const { clock, lines, progress } = harness();
    // A 2 MB/s link: every part of 5 MB is answered 2.5 s after the previous one.
    for (let part = 0; part <= 6; part++) {
      progress.progress(part * 5 * MB, 84 * MB, { sending: 12 * MB });
      clock.advance(2500);
    }
    // 30 MB acknowledged after 15 s: 35.7 %, 54 MB left at 2 MB/s = 27 s.
    expect(lines.at(-1)).toBe('upload: 35% 30.0/84.0 MB (+12.0 MB sending)  2.0 MB/s  ETA 27s\n');
  });

  it('a resumed upload starts at the bytes already sent without counting them as speed', () => {
    const { clock, lines, progress } = harness({ json: true });
    progress.progress(40 * MB, 84 * MB);
    for (let s = 1; s <= 4; s++) {
      clock.advance(1000);
      progress.progress(40 * MB + s * MB, 84 * MB);
    }
    const events = lines.map((l) => JSON.parse(l) as { sent: number; rate: number | null; eta: number | null });
    expect(events[0]).toMatchObject({ sent: 40 * MB, rate: null, eta: null });
    expect(events.at(-1)).toMatchObject({ sent: 44 * MB, rate: MB, eta: 40 });
  });

  it('the speed follows the last window, not the average since the start', () => {
    const w = new RateWindow(10_000, 3_000);
    // 10 MB/s for 20 s, then 1 MB/s for 20 s.
    let t = 0;
    let bytes = 0;
    for (; t <= 20_000; t += 1000, bytes += 10 * MB) w.add(t, bytes);
    for (; t <= 40_000; t += 1000, bytes += MB) w.add(t, bytes);
    expect(w.rate()).toBeCloseTo(MB, -3);
  });

  it('keeps a bounded number of samples when progress arrives thousands of times a second', () => {
    const w = new RateWindow(20_000, 3_000);
    // 100 MB/s reported per 64 KiB read: about 1,500 readings a second for 30 s.
    for (let t = 0, bytes = 0; t <= 30_000; t += 0.64, bytes += 65_536) w.add(t, bytes);
    expect(w.size).toBeLessThanOrEqual(210);
    expect(w.rate()! / MB).toBeCloseTo(102.4, 0);
  });

  it('on a terminal redraws one line and ends it when done', () => {
    const { clock, lines, progress } = harness({ tty: true });
    progress.progress(0, 10 * MB);
    clock.advance(5000);
    progress.progress(10 * MB, 10 * MB);
    expect(lines.at(-2)).toMatch(/^\r\[#{30}\] 100% 10\.0\/10\.0 MB {2}2\.0 MB\/s {3}$/);
    expect(lines.at(-1)).toBe('\n');
  });
});
