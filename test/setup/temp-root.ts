import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: every temporary file of a run — test files' own mkdtemp folders, IPAs, key files, the
 * homes of spawned `bin/ascend` processes — lands in one per-run folder that is removed when the run ends.
 * Test files need no cleanup code of their own for this: `os.tmpdir()` reads TMPDIR on every call, and the
 * test workers and the processes they spawn inherit it. (test/setup/per-file-temp.ts narrows it to a folder per
 * test file, removed after that file, so a whole run never holds more than a few files' worth.)
 */

const PREFIX = 'ascend-test-';

/** Folders left by runs that were killed before their teardown: named after a process that no longer exists. */
function removeAbandoned(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    if (!m || isAlive(Number(m[1]))) continue;
    rmSync(join(parent, name), { recursive: true, force: true, maxRetries: 3 });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export default function setup(): () => void {
  const parent = tmpdir();
  removeAbandoned(parent);
  const root = mkdtempSync(join(parent, `${PREFIX}${process.pid}-`));
  const previous = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP };
  // TMPDIR for POSIX, TMP/TEMP for Windows: os.tmpdir() and every child process follow them.
  process.env.TMPDIR = root;
  process.env.TMP = root;
  process.env.TEMP = root;
  return () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
}
