import { describe, expect, it } from 'vitest';
import { AscendError, CATALOGUE, type ErrorCode } from '../core/errors.js';
import { reportError } from './exit.js';
import { createOutput, type Io } from './io.js';

function buffers(): { io: Io; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t), readStdin: async () => '' },
    out,
    err,
  };
}

describe('reportError', () => {
  it('every catalogue code: --json parses, the remedy is whole, stderr is one line ending in a newline', () => {
    const codes = Object.keys(CATALOGUE) as ErrorCode[];
    expect(codes.length).toBeGreaterThan(50);
    for (const code of codes) {
      const b = buffers();
      const out = createOutput(b.io, { verbose: false, quiet: false });
      // A message that quotes what a user typed, including a BEGIN marker that is not a key.
      const message = `the value "-----BEGIN PRIVATE KEY-----" from "x.p8" is wrong for ${code}`;
      const exit = reportError(new AscendError(code, message), out, {
        json: true,
        verbose: false,
        stderr: b.io.stderr,
      });
      expect(exit).toBe(CATALOGUE[code].exit);
      const doc = JSON.parse(b.out.join('')) as { error: { code: string; message: string; remedy: string } };
      expect(doc.error).toMatchObject({ code, message, remedy: CATALOGUE[code].remedy });
      const stderr = b.err.join('');
      expect(stderr.endsWith('\n')).toBe(true);
      expect(stderr.split('\n').length).toBe(2);
      expect(stderr).toContain(`[${code}] — ${CATALOGUE[code].remedy}`);
    }
  });

  it('escapes terminal control sequences from a file in the error line, and in --json', () => {
    const b = buffers();
    const out = createOutput(b.io, { verbose: false, quiet: false });
    const evil = 'com.evil\u001b]0;owned\u0007\u001b[2J\u009b\u202e';
    reportError(new AscendError('PREFLIGHT_FAILED', `bundle ID ${evil} is wrong`), out, {
      json: true,
      verbose: true,
      stderr: b.io.stderr,
    });
    const printed = b.out.join('') + b.err.join('');
    expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(b.err.join('')).toContain('com.evil\\x1b]0;owned\\x07\\x1b[2J\\x9b\\u202e');
    expect(JSON.parse(b.out.join('')).error.message).toBe(`bundle ID ${evil} is wrong`);
  });

  it('human output, notes and log lines pass the same escape (newlines of multi-line output stay)', () => {
    const b = buffers();
    const out = createOutput(b.io, { verbose: true, quiet: false });
    out.print('name\tProfile \u001b]0;x\u0007\nnext line');
    out.note('note \u001b[2J');
    out.logger.debug('from Apple \u001b[31mred');
    const printed = b.out.join('') + b.err.join('');
    expect(printed).not.toMatch(/\u001b|\u0007/);
    expect(b.out.join('')).toBe('name\\tProfile \\x1b]0;x\\x07\nnext line\n');
  });

  it('keeps the INTERRUPTED code with exit 130 and says how to continue', () => {
    const b = buffers();
    const out = createOutput(b.io, { verbose: false, quiet: false });
    const exit = reportError(new AscendError('INTERRUPTED', 'interrupted by Ctrl-C (SIGINT)'), out, {
      json: false,
      verbose: false,
      stderr: b.io.stderr,
    });
    expect(exit).toBe(130);
    expect(b.err.join('')).toMatch(/\[INTERRUPTED\] — .*saved.*run the same command again/);
  });
});

describe('the streams commands write to directly', () => {
  it('pass the redactor and the control-character guard too (a preflight line printed by a command)', () => {
    const b = buffers();
    const out = createOutput(b.io, { verbose: false, quiet: false });
    out.redactor.add('MIGHAgEAMBMGByqGSM49AgEGCCqG');
    out.io.stderr('error BUNDLE_ID_INVALID: "com.evil\u001b]0;t\u0007" key MIGHAgEAMBMGByqGSM49AgEGCCqG\n');
    out.io.stderr('\r[####....] 50%');
    expect(b.err[0]).toBe('error BUNDLE_ID_INVALID: "com.evil\\u001b]0;t\\u0007" key [REDACTED]\n');
    expect(b.err[1]).toBe('\r[####....] 50%');
  });
});
