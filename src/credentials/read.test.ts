import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_KEY_BYTES, readableByOthers, readKeyFileBounded } from './read.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-read-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const posix = process.platform !== 'win32';

describe('readKeyFileBounded', () => {
  it.runIf(posix)('refuses /dev/zero and /dev/urandom before reading (they never end)', async () => {
    for (const dev of ['/dev/zero', '/dev/urandom']) {
      await expect(readKeyFileBounded(dev, '--private-key')).rejects.toMatchObject({ code: 'KEY_FILE_NOT_REGULAR' });
    }
  });

  it.runIf(posix)('refuses a FIFO without waiting for a writer', async () => {
    const fifo = join(dir, 'key.p8');
    execFileSync('mkfifo', [fifo]);
    await expect(readKeyFileBounded(fifo, '--private-key')).rejects.toMatchObject({
      code: 'KEY_FILE_NOT_REGULAR',
      message: expect.stringContaining('pipe'),
    });
  });

  it('refuses a folder', async () => {
    mkdirSync(join(dir, 'keys'));
    await expect(readKeyFileBounded(join(dir, 'keys'), 'x')).rejects.toMatchObject({ code: 'KEY_FILE_NOT_REGULAR' });
  });

  it('refuses a file larger than 16 KiB by its size, without reading it (a sparse 100 MB file)', async () => {
    const big = join(dir, 'big.p8');
    writeFileSync(big, '');
    truncateSync(big, 100 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    await expect(readKeyFileBounded(big, 'x')).rejects.toMatchObject({ code: 'KEY_FILE_TOO_LARGE' });
    // Nothing near the file's size was allocated (the old reader held all of it, and more).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('reads a file at the limit, and names a missing one', async () => {
    const ok = join(dir, 'ok.p8');
    writeFileSync(ok, 'a'.repeat(MAX_KEY_BYTES), { mode: 0o600 });
    const r = await readKeyFileBounded(ok, 'x');
    expect(r.text.length).toBe(MAX_KEY_BYTES);
    if (posix) expect(r.mode).toBe(0o600);
    await expect(readKeyFileBounded(join(dir, 'nope.p8'), 'x')).rejects.toMatchObject({ code: 'KEY_FILE_NOT_FOUND' });
  });

  it('tells a key file others can read', () => {
    expect(readableByOthers(0o644, 'linux')).toBe(true);
    expect(readableByOthers(0o640, 'linux')).toBe(true);
    expect(readableByOthers(0o600, 'linux')).toBe(false);
    expect(readableByOthers(0o644, 'win32')).toBe(false);
  });
});
