import { createLogger, type Logger } from '../core/logger.js';
import { createRedactor, type Redactor } from '../core/redact.js';

/** Where a command writes. Tests pass buffers; the process passes its streams. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

export interface Output {
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** The one JSON document of a command (--json or a non-TTY stdout). */
  json(doc: unknown): void;
  /** Human text on stdout. */
  print(text: string): void;
  /** Human notes on stderr (suppressed by --quiet). */
  note(text: string): void;
}

export function createOutput(io: Io, opts: { verbose: boolean; quiet: boolean }): Output {
  const redactor = createRedactor();
  const logger = createLogger((l) => io.stderr(l), opts.verbose ? 'debug' : opts.quiet ? 'error' : 'warn', redactor);
  return {
    redactor,
    logger,
    json: (doc) => io.stdout(redactor(`${JSON.stringify(doc, null, 2)}\n`)),
    print: (text) => io.stdout(redactor(text.endsWith('\n') ? text : `${text}\n`)),
    note: (text) => {
      if (!opts.quiet) io.stderr(redactor(text.endsWith('\n') ? text : `${text}\n`));
    },
  };
}

/** A plain table: no colours, columns padded to the widest cell; terminal control characters stripped. */
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

/** Text from Apple passes through here before a terminal sees it: no escape sequences. */
export function sanitize(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '');
}
