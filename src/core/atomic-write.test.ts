import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';

const dir = mkdtempSync(join(tmpdir(), 'ascend-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces a group-readable file with an owner-only one, leaving no temporary file', async () => {
    const p = join(dir, 'key.json');
    writeFileSync(p, 'old', { mode: 0o644 });
    await writeFileAtomic(p, 'secret');
    expect(readFileSync(p, 'utf8')).toBe('secret');
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('never writes through a symlink planted at the old predictable temporary name', async () => {
    const p = join(dir, 'distribution.p12');
    const bait = join(dir, 'stolen');
    symlinkSync(bait, `${p}.${process.pid}.tmp`);
    await writeFileAtomic(p, 'p12 bytes');
    expect(readFileSync(p, 'utf8')).toBe('p12 bytes');
    expect(() => statSync(bait)).toThrow();
  });
});
