import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * Vitest setup file, run in each test file's worker before the file loads: its temporary files go to a
 * folder of their own (inside the run's folder from test/setup/temp-root.ts), removed once the file's tests
 * and their own afterAll hooks are done (setup-file hooks run last), so the run's disk use stays bounded.
 */
const dir = mkdtempSync(join(tmpdir(), 'file-'));
const VARS = ['TMPDIR', 'TMP', 'TEMP'] as const;
const previous = VARS.map((k) => process.env[k]);
for (const k of VARS) process.env[k] = dir;

afterAll(() => {
  VARS.forEach((k, i) => {
    const v = previous[i];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  });
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});
