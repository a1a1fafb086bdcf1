import { describe, expect, it } from 'vitest';
import { escapeControl, quoteForLine } from './text.js';

describe('escapeControl', () => {
  it('shows ESC, OSC, C1 controls, newlines and bidi overrides as visible escapes', () => {
    expect(escapeControl('a\u001b[31mred\u001b]0;title\u0007')).toBe('a\\x1b[31mred\\x1b]0;title\\x07');
    expect(escapeControl('x\u009b2Jy\u009d')).toBe('x\\x9b2Jy\\x9d');
    expect(escapeControl('line\nbreak\ttab\u007f')).toBe('line\\x0abreak\\x09tab\\x7f');
    expect(escapeControl('abc\u202edcba')).toBe('abc\\u{202e}dcba');
    expect(escapeControl('com.example.app ✓ 日本')).toBe('com.example.app ✓ 日本');
  });

  it('quotes and cuts long values for one-line messages', () => {
    expect(quoteForLine('short')).toBe('"short"');
    expect(quoteForLine('9'.repeat(10_000), 5)).toBe('"99999…" (10000 characters)');
    expect(quoteForLine('\u001b[2J')).toBe('"\\x1b[2J"');
  });
});
