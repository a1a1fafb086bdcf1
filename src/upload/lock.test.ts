import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock, type Sleep } from '../core/clock.js';
import { FileLock, holdLock, LOCK_REFRESH_MS, processStartedAt, REMOTE_LOCK_STALE_MS } from './lock.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'ascend-lock-'));
  dirs.push(d);
  return d;
}
const me = { pid: 100, startedAt: 1, host: 'here' };
/** The machine as a lock sees it, injected: which pids run, when they started (unknown by default). */
const probe = (alive: (pid: number) => boolean, startedAt: (pid: number) => number | undefined = () => undefined) => ({
  alive,
  startedAt,
});
const other = { pid: 200, startedAt: 2, host: 'here' };

describe('FileLock', () => {
  it('one holder at a time; the lock file names its pid and start time; released on release', async () => {
    const dir = folder();
    const alive = () => true;
    const a = new FileLock(dir, me, probe(alive));
    const b = new FileLock(dir, other, probe(alive));
    const first = await a.tryAcquire('upload-1');
    expect(first.held).toBe(true);
    expect(JSON.parse(readFileSync(a.pathOf('upload-1'), 'utf8'))).toEqual(me);
    const second = await b.tryAcquire('upload-1');
    expect(second).toEqual({ held: false, holder: 'pid 100 on here', where: a.pathOf('upload-1') });
    // Another build is not blocked.
    expect((await b.tryAcquire('upload-2')).held).toBe(true);
    if (first.held) await first.handle.release();
    expect((await b.tryAcquire('upload-1')).held).toBe(true);
  });

  it('takes over a lock whose process is gone (killed or crashed)', async () => {
    const dir = folder();
    const dead = new FileLock(
      dir,
      other,
      probe(() => true),
    );
    expect((await dead.tryAcquire('k')).held).toBe(true);
    const mine = new FileLock(
      dir,
      me,
      probe((pid) => pid !== other.pid),
    );
    const got = await mine.tryAcquire('k');
    expect(got.held).toBe(true);
    expect(JSON.parse(readFileSync(mine.pathOf('k'), 'utf8'))).toEqual(me);
  });

  it('respects a lock of another host it cannot check; an unreadable old lock file is stale', async () => {
    const dir = folder();
    const remote = new FileLock(
      dir,
      { ...other, host: 'there' },
      probe(() => false),
    );
    expect((await remote.tryAcquire('k')).held).toBe(true);
    expect(
      (
        await new FileLock(
          dir,
          me,
          probe(() => false),
        ).tryAcquire('k')
      ).held,
    ).toBe(false);
    const path = new FileLock(dir, me).pathOf('j');
    writeFileSync(path, '');
    utimesSync(path, new Date(0), new Date(0));
    expect(
      (
        await new FileLock(
          dir,
          me,
          probe(() => false),
        ).tryAcquire('j')
      ).held,
    ).toBe(true);
  });

  it('holdLock waits on the injected clock and stops at the deadline naming the lock file', async () => {
    const dir = folder();
    expect(
      (
        await new FileLock(
          dir,
          other,
          probe(() => true),
        ).tryAcquire('k')
      ).held,
    ).toBe(true);
    const clock = new FakeClock();
    const waits: string[] = [];
    await expect(
      holdLock(
        new FileLock(
          dir,
          me,
          probe(() => true),
        ),
        'k',
        {
          deadline: clock.now() + 3000,
          clock,
          sleep: clock.sleep,
          onWait: (h) => waits.push(h),
        },
      ),
    ).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', remedy: expect.stringContaining(join(dir, 'k.lock')) });
    expect(waits).toEqual(['pid 200 on here']);
    expect(clock.sleeps).toEqual([1000, 1000, 1000]);
  });

  it('a reused pid (alive, but started at another time than the lock says) is stale; the same start is respected', async () => {
    const dir = folder();
    expect(
      (
        await new FileLock(
          dir,
          other,
          probe(() => true),
        ).tryAcquire('k')
      ).held,
    ).toBe(true);
    // The pid runs and started when the lock file says (to the tick): the holder is alive.
    const same = probe(
      () => true,
      (pid) => (pid === other.pid ? other.startedAt + 10 : undefined),
    );
    expect(await new FileLock(dir, me, same).tryAcquire('k')).toMatchObject({ held: false, holder: 'pid 200 on here' });
    // The pid now belongs to a process started a minute later (a container restarted): taken over.
    const reused = probe(
      () => true,
      (pid) => (pid === other.pid ? other.startedAt + 60_000 : undefined),
    );
    const mine = new FileLock(dir, me, reused);
    expect((await mine.tryAcquire('k')).held).toBe(true);
    expect(JSON.parse(readFileSync(mine.pathOf('k'), 'utf8'))).toEqual(me);
  });

  it("another host's lock is respected while refreshed every 30 s, and stale 3 minutes after its last refresh", async () => {
    const dir = folder();
    const t0 = Date.UTC(2026, 0, 1);
    let t = t0;
    const now = () => t;
    // A sleep the test wakes by hand: the refresher's schedule is read from `asked`.
    const asked: number[] = [];
    const wakes: (() => void)[] = [];
    const sleep: Sleep = (ms, signal) =>
      new Promise((resolve, reject) => {
        asked.push(ms);
        wakes.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    const there = new FileLock(dir, { ...other, host: 'there' }, { ...probe(() => false), now });
    const held = await holdLock(there, 'k', { deadline: t0 + 60_000, clock: { now }, sleep });
    const path = there.pathOf('k');
    utimesSync(path, new Date(t0), new Date(t0));
    const here = new FileLock(dir, me, { ...probe(() => false), now });
    t = t0 + LOCK_REFRESH_MS * 5;
    expect(await here.tryAcquire('k')).toMatchObject({ held: false, holder: 'pid 200 on there' });
    // The refresher wakes, touches the file, and sleeps again.
    expect(asked).toEqual([LOCK_REFRESH_MS]);
    wakes[0]!();
    await vi.waitFor(() => expect(asked).toHaveLength(2));
    expect(statSync(path).mtimeMs).toBe(t);
    t += REMOTE_LOCK_STALE_MS - 1;
    expect((await here.tryAcquire('k')).held).toBe(false);
    // Released: the refresher stops (no sleep asked again) and the file is gone.
    await held.release();
    expect(asked).toHaveLength(2);
    expect(existsSync(path)).toBe(false);
    // A holder on another host that stopped refreshing (its machine went away) is stale after the bound.
    expect((await there.tryAcquire('j')).held).toBe(true);
    utimesSync(there.pathOf('j'), new Date(t), new Date(t));
    t += REMOTE_LOCK_STALE_MS;
    expect((await here.tryAcquire('j')).held).toBe(true);
  });

  it('reads a process start time from /proc on Linux: stable for this process, none for a pid that does not exist', () => {
    if (process.platform !== 'linux') return;
    const mine = processStartedAt(process.pid);
    expect(typeof mine).toBe('number');
    expect(processStartedAt(process.pid)).toBe(mine);
    expect(processStartedAt(2 ** 30)).toBeUndefined();
  });
});
