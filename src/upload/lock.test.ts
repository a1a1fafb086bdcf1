import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../core/clock.js';
import { FileLock, holdLock } from './lock.js';

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
const other = { pid: 200, startedAt: 2, host: 'here' };

describe('FileLock', () => {
  it('one holder at a time; the lock file names its pid and start time; released on release', async () => {
    const dir = folder();
    const alive = () => true;
    const a = new FileLock(dir, me, alive);
    const b = new FileLock(dir, other, alive);
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
    const dead = new FileLock(dir, other, () => true);
    expect((await dead.tryAcquire('k')).held).toBe(true);
    const mine = new FileLock(dir, me, (pid) => pid !== other.pid);
    const got = await mine.tryAcquire('k');
    expect(got.held).toBe(true);
    expect(JSON.parse(readFileSync(mine.pathOf('k'), 'utf8'))).toEqual(me);
  });

  it('respects a lock of another host it cannot check; an unreadable old lock file is stale', async () => {
    const dir = folder();
    const remote = new FileLock(dir, { ...other, host: 'there' }, () => false);
    expect((await remote.tryAcquire('k')).held).toBe(true);
    expect((await new FileLock(dir, me, () => false).tryAcquire('k')).held).toBe(false);
    const path = new FileLock(dir, me).pathOf('j');
    writeFileSync(path, '');
    utimesSync(path, new Date(0), new Date(0));
    expect((await new FileLock(dir, me, () => false).tryAcquire('j')).held).toBe(true);
  });

  it('holdLock waits on the injected clock and stops at the deadline naming the lock file', async () => {
    const dir = folder();
    expect((await new FileLock(dir, other, () => true).tryAcquire('k')).held).toBe(true);
    const clock = new FakeClock();
    const waits: string[] = [];
    await expect(
      holdLock(new FileLock(dir, me, () => true), 'k', {
        deadline: clock.now() + 3000,
        clock,
        sleep: clock.sleep,
        onWait: (h) => waits.push(h),
      }),
    ).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', remedy: expect.stringContaining(join(dir, 'k.lock')) });
    expect(waits).toEqual(['pid 200 on here']);
    expect(clock.sleeps).toEqual([1000, 1000, 1000]);
  });
});
