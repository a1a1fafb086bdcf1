import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

/**
 * A fresh temporary folder, removed after the importing test file's tests. (The run's own temporary folder,
 * test/setup/temp-root.ts, catches anything left anyway; this keeps a file from holding its keys and IPAs
 * until the end of the run.)
 */
export function tempDir(prefix = 'ascend-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});
