import { describe, expect, it } from 'vitest';
import { escapeControl, escapeJsonControl, escapeStream, quoteForLine } from './text.js';

describe('escapeControl', () => {
  it('shows ESC/OSC/CSI, BEL, CR, DEL, C1 and bidi overrides as escapes, never raw', () => {
    const hostile = 'com.evil\u001b]0;pwned\u0007\u001b[2J\r\u007f\u009b\u202eabc\u2066';
    const out = escapeControl(hostile);
    expect(out).toBe('com.evil\\x1b]0;pwned\\x07\\x1b[2J\\r\\x7f\\x9b\\u202eabc\\u2066');
    expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  });

  it('keeps newlines of multi-line output only when asked, and leaves plain text alone', () => {
    expect(escapeControl('a\nb\tc', { lines: true })).toBe('a\nb\\tc');
    expect(escapeControl('a\nb')).toBe('a\\nb');
    expect(escapeControl('Grüße — 日本 ✓')).toBe('Grüße — 日本 ✓');
  });

  it('JSON: escapes what JSON.stringify leaves raw, and the document still parses to the same value', () => {
    const value = { name: 'x\u009b2J\u202e\u007f\u001b' };
    const raw = JSON.stringify(value);
    expect(raw).toMatch(/[\u009b\u202e\u007f]/);
    const safe = escapeJsonControl(raw);
    expect(safe).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(JSON.parse(safe)).toEqual(value);
  });
});

describe('escapeStream', () => {
  it('escapes controls as \\uXXXX (valid in JSON), keeps newlines, tabs and a leading carriage return', () => {
    expect(escapeStream('\r[###...] 30%')).toBe('\r[###...] 30%');
    expect(escapeStream('error x: com.evil\u001b]0;t\u0007 \r\u009b\u202e\n\tnext')).toBe(
      'error x: com.evil\\u001b]0;t\\u0007 \\u000d\\u009b\\u202e\n\tnext',
    );
    const doc = `${JSON.stringify({ name: 'a\u009bb\u202e' })}\n`;
    expect(JSON.parse(escapeStream(doc))).toEqual({ name: 'a\u009bb\u202e' });
  });
});

describe('quoteForLine', () => {
  it('quotes and cuts long values for one-line messages, escaping what a terminal would obey', () => {
    expect(quoteForLine('short')).toBe('"short"');
    expect(quoteForLine('9'.repeat(10_000), 5)).toBe('"99999…" (10000 characters)');
    expect(quoteForLine('\u001b[2J')).toBe('"\\x1b[2J"');
    expect(quoteForLine('a\u202eb')).toBe('"a\\u202eb"');
  });
});
