/**
 * Text that came from a file (an .ipa's plist, a zip entry name, a profile) or from Apple passes through
 * `escapeControl` before a terminal sees it. A bundle ID holding ESC ] 0 ; … BEL would otherwise retitle
 * the window, ESC [ 2 J would clear the screen, and a right-to-left override would make a line read
 * differently from what it says. The characters are shown escaped (`\x1b`, `\u202e`), never dropped, so
 * what was in the file stays visible.
 */

// C0 controls, DEL, C1 controls (some terminals act on U+009B as CSI), bidi embeddings/overrides/isolates,
// and the line/paragraph separators that JavaScript treats as line breaks.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_LINES =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  if (c === '\n') return '\\n';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Escapes every control character of `s` for printing. With `lines: true`, newlines stay (multi-line
 * human output); everything else, tab and carriage return included, is shown as an escape.
 */
export function escapeControl(s: string, opts: { lines?: boolean } = {}): string {
  return s.replace(opts.lines ? CONTROL_BUT_LINES : CONTROL, escapeOne);
}

/**
 * JSON.stringify escapes C0 controls but passes DEL, C1 controls and bidi characters through as they are;
 * this rewrites those as \uXXXX escapes, which leaves the document equal when parsed.
 */
export function escapeJsonControl(json: string): string {
  return json.replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// Like CONTROL but without \t and \n (harmless in a stream); \r is handled apart.
const STREAM_CONTROL =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * For writes straight to stdout/stderr whose content is not known here (a command's own lines, a JSON
 * document): every control character becomes a \uXXXX escape, which is readable as text and valid inside
 * a JSON string, so the same guard serves both. Newlines and tabs stay, and so does a carriage return at
 * the very start of a write: that is how a progress bar redraws its line.
 */
export function escapeStream(s: string): string {
  const lead = s.startsWith('\r') ? '\r' : '';
  return (
    lead + s.slice(lead.length).replace(STREAM_CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  );
}

/** A value from a file for a one-line message: control characters escaped, cut short past `max` characters. */
export function quoteForLine(v: string, max = 80): string {
  const cut = v.length <= max ? v : `${v.slice(0, max)}…`;
  const tail = v.length <= max ? '' : ` (${v.length} characters)`;
  return `"${escapeControl(cut)}"${tail}`;
}
