import { CATALOGUE, type ErrorCode, EXIT, isAscendError } from '../core/errors.js';
import { escapeControl } from '../core/text.js';
import type { Output } from './io.js';

export interface ExitReport {
  exitCode: number;
  code: ErrorCode | 'INTERNAL';
  message: string;
  remedy: string;
}

/** The one map from any error to ascend's exit codes (DESIGN §3.3). */
export function toExitReport(err: unknown): ExitReport {
  if (isAscendError(err)) return { exitCode: err.exitCode, code: err.code, message: err.message, remedy: err.remedy };
  const e = err as { code?: string; message?: string; exitCode?: number } | undefined;
  // commander's parse errors: unknown option, missing argument, bad choice.
  if (e?.code?.startsWith('commander.')) {
    return {
      exitCode: EXIT.usage,
      code: 'USAGE',
      message: (e.message ?? '').replace(/^error:\s*/, ''),
      remedy: CATALOGUE.USAGE.remedy,
    };
  }
  return {
    exitCode: EXIT.bug,
    code: 'INTERNAL',
    message: `unexpected error: ${e?.message ?? String(err)}`,
    remedy: CATALOGUE.INTERNAL.remedy,
  };
}

/** The one error line: `ascend: <problem> [CODE] — <remedy>`, redacted, control characters escaped. */
export function errorLine(r: ExitReport, out: Pick<Output, 'redactor'>): string {
  const flat = (s: string) => escapeControl(out.redactor(s.replace(/\s+/g, ' ').trim()));
  return `ascend: ${flat(r.message)} [${r.code}] — ${flat(r.remedy)}\n`;
}

/** Reports an error in one line (plus a JSON document with --json); the stack only with --verbose. */
export function reportError(
  err: unknown,
  out: Output,
  opts: { json: boolean; verbose: boolean; stderr: (t: string) => void },
): number {
  const r = toExitReport(err);
  opts.stderr(errorLine(r, out));
  if (opts.verbose && err instanceof Error && err.stack) {
    opts.stderr(`${escapeControl(out.redactor(err.stack), { lines: true })}\n`);
  }
  if (opts.json) out.json({ error: { code: r.code, message: r.message, remedy: r.remedy, exitCode: r.exitCode } });
  return r.exitCode;
}
