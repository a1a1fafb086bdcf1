import { readFileSync } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';

export interface LockHandle {
  release(): Promise<void>;
  /** Marks the lock as still held (a lock file's mtime), so other hosts do not take it for abandoned. */
  refresh?(): Promise<void>;
}

/** How often a held lock file is refreshed, and after how long without a refresh another host's lock is stale. */
export const LOCK_REFRESH_MS = 30_000;
export const REMOTE_LOCK_STALE_MS = 3 * 60_000;
/** Two readings of one process's start time (from /proc, rounded to seconds and ticks) differ by less. */
const START_TOLERANCE_MS = 2000;

export type LockAttempt =
  | { held: true; handle: LockHandle }
  /** `holder` describes who has it; `where` names what a person would remove if that holder is gone. */
  | { held: false; holder: string; where: string };

/**
 * One holder at a time per build. The CLI uses a lock file in its state folder; the server passes a
 * database lock through the same interface.
 */
export interface BuildLock {
  tryAcquire(key: string): Promise<LockAttempt>;
}

interface Owner {
  pid: number;
  /** When the holding process started (epoch ms): with the pid, tells a reused pid apart in the file. */
  startedAt: number;
  host: string;
}

/** An owner as read from its lock file, with the ms since the file was last refreshed. */
type Held = Owner & { age: number };

const isOwner = (v: unknown): v is Owner =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as Owner).pid === 'number' &&
  typeof (v as Owner).startedAt === 'number' &&
  typeof (v as Owner).host === 'string';

/** Whether a process with this pid exists on this machine (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When a process started (epoch ms), from Linux's /proc: field 22 of /proc/<pid>/stat is its start in
 * clock ticks after boot (USER_HZ, 100 on every Linux Node supports) and /proc/stat's btime is the boot in
 * seconds. undefined elsewhere, or when the process is gone.
 */
export function processStartedAt(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its end.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(btime) && btime > 0 ? btime * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** What a lock asks of the machine: whether a pid runs, when it started, and the time now. */
export interface LockProbe {
  alive(pid: number): boolean;
  startedAt(pid: number): number | undefined;
  now(): number;
}

const systemProbe: LockProbe = { alive: pidAlive, startedAt: processStartedAt, now: () => Date.now() };

const selfOwner = (): Owner => ({
  pid: process.pid,
  startedAt: processStartedAt(process.pid) ?? Math.round(Date.now() - process.uptime() * 1000),
  host: hostname(),
});

/**
 * An exclusive lock file (`<key>.lock`, created with O_EXCL) holding the owner's pid, start time and host.
 * A lock is stale and taken over when its process is gone (killed, crashed) or its pid now belongs to a
 * process that started at another time (pids are reused, quickly in a container); a lock from another host
 * cannot be checked that way, so its holder refreshes the file's mtime every LOCK_REFRESH_MS and it is stale
 * once not refreshed for REMOTE_LOCK_STALE_MS.
 */
export class FileLock implements BuildLock {
  private readonly probe: LockProbe;

  constructor(
    readonly dir: string,
    private readonly self: Owner = selfOwner(),
    probe: Partial<LockProbe> = {},
  ) {
    this.probe = { ...systemProbe, ...probe };
  }

  pathOf(key: string): string {
    return join(this.dir, `${key.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
  }

  async tryAcquire(key: string): Promise<LockAttempt> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = this.pathOf(key);
    for (let round = 0; round < 3; round++) {
      if (await this.create(path))
        return { held: true, handle: { release: () => this.release(path), refresh: () => this.refresh(path) } };
      const holder = await this.holderOf(path);
      if (holder === 'fresh' || (holder && this.live(holder))) {
        const who = holder === 'fresh' ? 'a process starting up' : `pid ${holder.pid} on ${holder.host}`;
        return { held: false, holder: who, where: path };
      }
      await this.removeStale(path);
    }
    return { held: false, holder: 'another process (the lock changed hands while being taken)', where: path };
  }

  private live(o: Held): boolean {
    if (o.host !== this.self.host) return o.age < REMOTE_LOCK_STALE_MS;
    if (!this.probe.alive(o.pid)) return false;
    const started = this.probe.startedAt(o.pid);
    return started === undefined || Math.abs(started - o.startedAt) <= START_TOLERANCE_MS;
  }

  private async refresh(path: string): Promise<void> {
    const at = new Date(this.probe.now());
    await utimes(path, at, at).catch(() => {});
  }

  private async create(path: string): Promise<boolean> {
    try {
      const fh = await open(path, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify(this.self));
      } finally {
        await fh.close();
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  /**
   * The lock's owner and the age of its last refresh; 'fresh' for a file so new its owner may not have
   * written it yet; undefined if stale.
   */
  private async holderOf(path: string): Promise<Held | 'fresh' | undefined> {
    const age = await stat(path).then(
      (s) => this.probe.now() - s.mtimeMs,
      () => Number.POSITIVE_INFINITY,
    );
    try {
      const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
      if (isOwner(parsed)) return { ...parsed, age };
    } catch {
      // unreadable or gone: judged by age below
    }
    return age < 5000 ? 'fresh' : undefined;
  }

  /**
   * Moves the stale file aside before removing it, so a lock taken by someone else in the meantime is put
   * back (link fails if a newer one exists) rather than deleted.
   */
  private async removeStale(path: string): Promise<void> {
    const aside = `${path}.${this.self.pid}.stale`;
    try {
      await rename(path, aside);
    } catch {
      return; // someone else moved it first
    }
    const moved = await this.holderOf(aside);
    if (moved && moved !== 'fresh' && this.live(moved)) await link(aside, path).catch(() => {});
    await rm(aside, { force: true });
  }

  private async release(path: string): Promise<void> {
    const holder = await this.holderOf(path);
    if (holder && holder !== 'fresh' && holder.pid === this.self.pid && holder.startedAt === this.self.startedAt)
      await rm(path, { force: true });
  }
}

/**
 * Takes the lock, waiting (polling once a second) while a live holder has it, until the deadline. While held,
 * the lock is refreshed every LOCK_REFRESH_MS on the injected sleep, until released.
 */
export async function holdLock(
  lock: BuildLock,
  key: string,
  o: { deadline: number; clock: Clock; sleep: Sleep; signal?: AbortSignal; onWait?: (holder: string) => void },
): Promise<LockHandle> {
  let told = false;
  for (;;) {
    const got = await lock.tryAcquire(key);
    if (got.held) return keepFresh(got.handle, o.sleep);
    if (!told) o.onWait?.(got.holder);
    told = true;
    const left = o.deadline - o.clock.now();
    if (left <= 0) {
      throw new AscendError('DEADLINE_EXCEEDED', `another ascend (${got.holder}) is still uploading this build`, {
        remedy: `Let it finish, then run the same command again; if no such process is running, delete ${got.where}.`,
      });
    }
    await o.sleep(Math.min(1000, left), o.signal);
  }
}

/** Refreshes a held lock in the background; release stops that first, so no refresh outlives the lock. */
function keepFresh(handle: LockHandle, sleep: Sleep): LockHandle {
  const refresh = handle.refresh?.bind(handle);
  if (!refresh) return handle;
  const stop = new AbortController();
  const loop = (async () => {
    for (;;) {
      await sleep(LOCK_REFRESH_MS, stop.signal);
      await refresh();
    }
  })().catch(() => {
    // stopped by release (or the lock file is gone): nothing left to refresh
  });
  return {
    release: async () => {
      stop.abort();
      await loop;
      await handle.release();
    },
    refresh,
  };
}
