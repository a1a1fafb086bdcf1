/**
 * Makes text from hostile files safe to print on one terminal line: C0 controls (ESC, BEL, CR, LF, TAB…),
 * DEL, C1 controls (CSI 0x9B and OSC 0x9D included) and the bidirectional overrides that can reorder what
 * a reader sees ("Trojan Source") are shown as visible escapes instead of being obeyed by the terminal.
 * Escaping rather than stripping keeps the evidence: the user sees that the name holds something odd.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function escapeControl(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const cp = c.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}

/** A value from a file for a one-line message: control characters escaped, cut short past `max` characters. */
export function quoteForLine(v: string, max = 80): string {
  const cut = v.length <= max ? v : `${v.slice(0, max)}…`;
  const tail = v.length <= max ? '' : ` (${v.length} characters)`;
  return `"${escapeControl(cut)}"${tail}`;
}
