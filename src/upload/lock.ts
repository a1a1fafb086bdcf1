import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Clock, Sleep } from '../core/clock.js';
import { AscendError } from '../core/errors.js';

export interface LockHandle {
  release(): Promise<void>;
}

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
 * An exclusive lock file (`<key>.lock`, created with O_EXCL) holding the owner's pid, start time and host.
 * A lock whose process is gone (killed, crashed) is stale and taken over; a lock from another host cannot be
 * checked and is respected.
 */
export class FileLock implements BuildLock {
  constructor(
    readonly dir: string,
    private readonly self: Owner = {
      pid: process.pid,
      startedAt: Math.round(Date.now() - process.uptime() * 1000),
      host: hostname(),
    },
    private readonly isAlive: (pid: number) => boolean = pidAlive,
  ) {}

  pathOf(key: string): string {
    return join(this.dir, `${key.replace(/[^A-Za-z0-9._-]/g, '_')}.lock`);
  }

  async tryAcquire(key: string): Promise<LockAttempt> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const path = this.pathOf(key);
    for (let round = 0; round < 3; round++) {
      if (await this.create(path)) return { held: true, handle: { release: () => this.release(path) } };
      const holder = await this.holderOf(path);
      if (holder === 'fresh' || (holder && this.live(holder))) {
        const who = holder === 'fresh' ? 'a process starting up' : `pid ${holder.pid} on ${holder.host}`;
        return { held: false, holder: who, where: path };
      }
      await this.removeStale(path);
    }
    return { held: false, holder: 'another process (the lock changed hands while being taken)', where: path };
  }

  private live(o: Owner): boolean {
    return o.host !== this.self.host || this.isAlive(o.pid);
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

  /** The lock's owner; 'fresh' for a file so new its owner may not have written it yet; undefined if stale. */
  private async holderOf(path: string): Promise<Owner | 'fresh' | undefined> {
    try {
      const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
      if (isOwner(parsed)) return parsed;
    } catch {
      // unreadable or gone: judged by age below
    }
    const age = await stat(path).then(
      (s) => Date.now() - s.mtimeMs,
      () => Number.POSITIVE_INFINITY,
    );
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

/** Takes the lock, waiting (polling once a second) while a live holder has it, until the deadline. */
export async function holdLock(
  lock: BuildLock,
  key: string,
  o: { deadline: number; clock: Clock; sleep: Sleep; signal?: AbortSignal; onWait?: (holder: string) => void },
): Promise<LockHandle> {
  let told = false;
  for (;;) {
    const got = await lock.tryAcquire(key);
    if (got.held) return got.handle;
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
