import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, tempEnv } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

/**
 * A test run leaves nothing in the temporary directory (test/setup/temp-root.ts and per-file-temp.ts), even
 * for test files that never remove what they create, and processes spawned by tests write there too.
 */
describe('temporary files of a test run', () => {
  it('each test file gets its own folder inside the run’s folder, and spawned processes inherit it', async () => {
    const mine = tmpdir();
    expect(mine).toMatch(/ascend-test-\d+-[^/]+\/file-[^/]+$/);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(require("node:os").tmpdir())'], {
      encoding: 'utf8',
    });
    expect(child.stdout).toBe(mine);
    // runCli builds a clean environment for bin/ascend; the temporary folder must survive that.
    expect(tempEnv().TMPDIR).toBe(mine);
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(readdirSync(mine).filter((n) => n.startsWith('ascend-cli-'))).toEqual([]);
  });

  it('running test files that create temp folders and keys without removing them leaves nothing behind', async () => {
    const outer = tempDir('nested-');
    // Two files that today make folders (one with private keys) and never remove them.
    const files = ['src/ipa/preflight.test.ts', 'src/credentials/sources.test.ts'];
    const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [vitest, 'run', ...files, '--reporter=dot'], {
        cwd: ROOT,
        env: { ...process.env, TMPDIR: outer, TMP: outer, TEMP: outer },
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect(code).toBe(0);
    expect(existsSync(outer)).toBe(true);
    expect(readdirSync(outer)).toEqual([]);
  }, 120_000);
});
