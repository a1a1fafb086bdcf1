import { createLogger, type Logger } from '../core/logger.js';
import { createRedactor, type Redactor } from '../core/redact.js';
import { escapeControl, escapeJsonControl, escapeStream } from '../core/text.js';

/** Where a command writes. Tests pass buffers; the process passes its streams. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /**
   * Standard input as text, at most `maxBytes` + 1 bytes of it (so the caller can tell "too long"), because
   * `--private-key -` on an endless stream must not grow without limit.
   */
  readStdin: (maxBytes?: number) => Promise<string>;
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async (maxBytes = Number.POSITIVE_INFINITY) => {
    const chunks: Buffer[] = [];
    let total = 0;
    // Leaving the loop early destroys the stream, so an endless producer is not read on.
    for await (const c of process.stdin) {
      chunks.push(c as Buffer);
      total += (c as Buffer).length;
      if (total > maxBytes) break;
    }
    const all = Buffer.concat(chunks);
    return all.subarray(0, Math.min(all.length, maxBytes + 1)).toString('utf8');
  },
};

export interface Output {
  readonly redactor: Redactor;
  /**
   * The streams as commands see them (`rt.io`): what a command writes there directly passes the same
   * redactor and a control-character guard, so no path to the terminal skips the edge.
   */
  readonly io: Io;
  readonly logger: Logger;
  /** The one JSON document of a command (--json or a non-TTY stdout). */
  json(doc: unknown): void;
  /** Human text on stdout. */
  print(text: string): void;
  /** Human notes on stderr (suppressed by --quiet). */
  note(text: string): void;
  /** A one-line warning on stderr (shown even with --quiet: it is about safety). */
  warn(text: string): void;
}

/**
 * The output edge: every line passes the redactor and then `escapeControl`, so neither a secret nor a
 * terminal escape sequence from a file or from Apple reaches the terminal, whatever the command printed.
 */
export function createOutput(io: Io, opts: { verbose: boolean; quiet: boolean }): Output {
  const redactor = createRedactor();
  const human = (text: string) => escapeControl(redactor(text), { lines: true });
  const logger = createLogger(
    (l) => io.stderr(human(l)),
    opts.verbose ? 'debug' : opts.quiet ? 'error' : 'warn',
    redactor,
  );
  const line = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);
  const guarded: Io = {
    stdout: (t) => io.stdout(escapeStream(redactor(t))),
    stderr: (t) => io.stderr(escapeStream(redactor(t))),
    readStdin: (max) => io.readStdin(max),
  };
  return {
    redactor,
    io: guarded,
    logger,
    json: (doc) => io.stdout(escapeJsonControl(redactor(`${JSON.stringify(doc, null, 2)}\n`))),
    print: (text) => io.stdout(human(line(text))),
    note: (text) => {
      if (!opts.quiet) io.stderr(human(line(text)));
    },
    warn: (text) => io.stderr(`warning: ${escapeControl(redactor(text.replace(/\s+/g, ' ').trim()))}\n`),
  };
}

/** A plain table: no colours, columns padded to the widest cell; terminal control characters escaped. */
export function table(headers: string[], rows: (string | number | boolean | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => sanitize(c === null || c === undefined ? '—' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return (
    cells
      .map((r) =>
        r
          .map((c, i) => (c ?? '').padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** One cell or field of text from a file or from Apple: every control character shown escaped. */
export function sanitize(s: string): string {
  return escapeControl(s);
}
