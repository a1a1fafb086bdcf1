/**
 * Text from Apple (names, error details, a profile's application identifier) passes through here before it
 * is put in a message: no terminal control characters, one line, bounded length.
 */
export function printable(value: unknown, max = 200): string {
  const s = String(value ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
