import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIpa, SAMPLE_ROOT_SHA256 } from '../../sample/builder.js';
import { main } from '../main.js';
import { formatSize } from './ipa-inspect.js';

const dir = mkdtempSync(join(tmpdir(), 'ascend-inspect-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `ascend` in process with a terminal on stdout, so the human output is what is printed. */
async function run(
  args: string[],
  env: Record<string, string> = { ASCEND_EXTRA_TRUSTED_ROOTS: SAMPLE_ROOT_SHA256 },
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (t: string) => {
      stdout += t;
    },
    stderr: (t: string) => {
      stderr += t;
    },
    readStdin: async () => '',
  };
  const code = await main(args, io, () => ({
    env: { HOME: dir, ASCEND_HOME: join(dir, 'home'), ...env },
    cwd: dir,
    stdoutIsTTY: true,
    stderrIsTTY: false,
  }));
  return { code, stdout, stderr };
}

describe('ascend ipa inspect (human output)', () => {
  it('shows sizes in bytes, KiB, MiB or GiB, never "0.0 MiB"', async () => {
    expect(formatSize(0)).toBe('0 bytes');
    expect(formatSize(1)).toBe('1 byte');
    expect(formatSize(1023)).toBe('1023 bytes');
    expect(formatSize(4000)).toBe('3.9 KiB');
    expect(formatSize(3 * 1024 * 1024)).toBe('3.0 MiB');
    expect(formatSize(2.5 * 1024 ** 3)).toBe('2.50 GiB');
    const file = join(dir, 'small.ipa');
    await buildIpa(file);
    const r = await run(['ipa', 'inspect', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/small\.ipa {2}\d+\.\d KiB {2}ipa {2}IOS$/);
    expect(r.stdout).not.toContain('0.0 MiB');
    // Without the sample root among the trusted ones, the profile line says who signed it.
    const untrusted = await run(['ipa', 'inspect', file], { ASCEND_EXTRA_TRUSTED_ROOTS: '' });
    expect(untrusted.code).toBe(6);
    expect(untrusted.stdout).toMatch(/NOT signed by Apple: ascend sample profile signing root/);
    expect(untrusted.stdout).toContain('PROFILE_UNTRUSTED_SIGNER');
  });

  it('escapes terminal control sequences from the file (ESC, OSC, C1) instead of printing them', async () => {
    const file = join(dir, 'escape.ipa');
    await buildIpa(file, {
      bundleId: 'com.example.\u001b]0;pwned\u0007app',
      version: '1.0\u009b2J',
      profile: { name: 'Evil \u009b2J\u009d profile', appId: '*' },
    });
    const r = await run(['ipa', 'inspect', file]);
    expect(r.code).toBe(6);
    const printed = r.stdout + r.stderr;
    expect(printed).not.toMatch(/[\u001b\u0007\u009b\u009d]/);
    expect(r.stdout).toContain('com.example.\\x1b]0;pwned\\x07app');
    expect(r.stdout).toContain('Evil \\x9b2J\\x9d profile');
    expect(r.stdout).not.toContain('NOT signed by Apple');
    expect(r.stdout).toContain(
      'SHORT_VERSION_INVALID: The app’s CFBundleShortVersionString "1.0\\x9b2J"'.replace('’', "'"),
    );
  });

  it('says a folder is a folder, and how to export an .xcarchive', async () => {
    const folder = join(dir, 'folder');
    const archive = join(dir, 'MyApp.xcarchive');
    mkdirSync(folder);
    mkdirSync(archive);
    const f = await run(['ipa', 'inspect', folder]);
    expect(f.code).toBe(6);
    expect(f.stderr).toMatch(/^ascend: .*folder is a directory, not an \.ipa file \[FILE_IS_DIRECTORY\]/);
    const a = await run(['ipa', 'inspect', archive]);
    expect(a.code).toBe(6);
    expect(a.stderr).toMatch(
      /is an Xcode archive \(a folder\), not an \.ipa \[FILE_IS_DIRECTORY\] — Export .*xcodebuild -exportArchive/,
    );
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    const missing = await run(['ipa', 'inspect', join(dir, 'nope.ipa')]);
    expect(missing.stderr).toMatch(/nope\.ipa does not exist \[FILE_NOT_FOUND\]/);
  });
});
