import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { staleReason } from './build-dist.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

function file(rel: string, mtimeS: number): void {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, '');
  utimesSync(p, mtimeS, mtimeS);
}

describe('the build check before a test run', () => {
  it('rebuilds when dist is missing, or when any source or build config is newer than the oldest built file', () => {
    root = mkdtempSync(join(tmpdir(), 'stale-'));
    file('src/a.ts', 1000);
    file('simulator/s.ts', 1000);
    expect(staleReason(root)).toBe('dist/ is missing');
    file('dist/src/a.js', 2000);
    file('dist/simulator/s.js', 1500);
    expect(staleReason(root)).toBeUndefined();
    // A test file is not part of the build: editing it does not make dist stale.
    file('src/a.test.ts', 9000);
    expect(staleReason(root)).toBeUndefined();
    file('simulator/s.ts', 1600);
    expect(staleReason(root)).toBe('simulator/s.ts is newer than the build');
    file('dist/simulator/s.js', 2000);
    file('tsconfig.build.json', 2500);
    expect(staleReason(root)).toBe('tsconfig.build.json is newer than the build');
  });
});
