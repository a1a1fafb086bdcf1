import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIpa } from '../sample/builder.js';
import type { Io } from './io.js';
import { main } from './main.js';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ascend-main-'));
  await buildIpa(join(dir, 'evil.ipa'), {
    bundleId: 'com.evil\u001b]0;owned\u0007\u001b[2J',
    version: '1.0',
    build: '1',
    plistFormat: 'binary',
    profile: null,
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], tty: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), readStdin: async () => '' };
  const code = await main(argv, io, () => ({
    env: { HOME: dir, ASCEND_HOME: join(dir, 'home') },
    cwd: dir,
    stdoutIsTTY: tty,
    stderrIsTTY: tty,
  }));
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('main: terminal safety of human output', () => {
  it('a bundle ID with OSC/CSI sequences is shown escaped in the preflight lines and the error line', async () => {
    const r = await run(['ipa', 'inspect', join(dir, 'evil.ipa')], true);
    expect(r.code).toBe(6);
    const printed = r.stdout + r.stderr;
    expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout).toContain('com.evil\\x1b]0;owned\\x07\\x1b[2J');
    expect(r.stderr).toMatch(/^ascend: .*\[PREFLIGHT_FAILED\]/m);
  });

  it('with --json the same bundle ID stays exact inside the document', async () => {
    const r = await run(['ipa', 'inspect', join(dir, 'evil.ipa'), '--json'], false);
    expect(JSON.parse(r.stdout).app.bundleId).toBe('com.evil\u001b]0;owned\u0007\u001b[2J');
    expect(r.stdout).not.toMatch(/\u001b/);
  });
});
