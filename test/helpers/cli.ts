import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SAMPLE_ROOT_SHA256 } from '../../src/sample/test-root.js';

export const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin', 'ascend');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The temporary-folder variables, so a spawned process writes where the test run cleans up (test/setup). */
export function tempEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['TMPDIR', 'TMP', 'TEMP']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/**
 * Runs the real `bin/ascend` in a clean environment (its own HOME and ASCEND_HOME unless given; the test
 * run's temporary folder). The HOME it made is removed when the process ends.
 */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; input?: string } = {},
): Promise<CliResult> {
  const home = mkdtempSync(join(tmpdir(), 'ascend-cli-'));
  const env = {
    PATH: process.env.PATH ?? '',
    ...tempEnv(),
    HOME: home,
    ASCEND_HOME: join(home, 'ascend'),
    // Sample IPAs' profiles are signed by the sample root; tests that want Apple's roots only override it.
    ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256,
    ...opts.env,
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      cwd: opts.cwd ?? home,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      rmSync(home, { recursive: true, force: true });
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
