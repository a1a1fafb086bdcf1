import type { Io } from './io.js';

const MB = 1_000_000;

export interface ProgressOptions {
  io: Io;
  /** A terminal gets a live bar; anything else gets a line every `everyMs`. */
  tty: boolean;
  json: boolean;
  quiet: boolean;
  now: () => number;
  everyMs?: number;
}

/**
 * Byte-accurate upload progress with rate and ETA: a redrawn line on a terminal, periodic one-line
 * reports without one (CI logs), JSON events on stderr in --json mode.
 */
export function createProgress(o: ProgressOptions) {
  const start = o.now();
  let lastLine = 0;
  let lastSent = 0;
  const every = o.everyMs ?? 5000;
  const format = (sent: number, total: number) => {
    const secs = Math.max(0.001, (o.now() - start) / 1000);
    const rate = sent / secs;
    const eta = rate > 0 ? Math.round((total - sent) / rate) : 0;
    const pct = total ? Math.floor((sent / total) * 100) : 100;
    return {
      pct,
      rate,
      eta,
      text: `${pct}% ${(sent / MB).toFixed(1)}/${(total / MB).toFixed(1)} MB  ${(rate / MB).toFixed(1)} MB/s  ETA ${eta}s`,
    };
  };
  return {
    progress(sent: number, total: number) {
      if (o.quiet) return;
      const f = format(sent, total);
      const now = o.now();
      if (o.json) {
        if (now - lastLine >= 1000 || sent === total) {
          lastLine = now;
          o.io.stderr(`${JSON.stringify({ event: 'progress', sent, total, rate: Math.round(f.rate), eta: f.eta })}\n`);
        }
        return;
      }
      if (o.tty) {
        if (now - lastLine < 100 && sent !== total) return; // at most ten redraws a second
        lastLine = now;
        const width = 30;
        const filled = Math.round((f.pct / 100) * width);
        o.io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${f.text}   `);
        if (sent === total) o.io.stderr('\n');
        return;
      }
      if (now - lastLine >= every || (sent === total && lastSent !== total)) {
        lastLine = now;
        o.io.stderr(`upload: ${f.text}\n`);
      }
      lastSent = sent;
    },
    note(event: string, detail?: string) {
      if (o.quiet) return;
      if (o.json) o.io.stderr(`${JSON.stringify({ event, ...(detail ? { detail } : {}) })}\n`);
      else o.io.stderr(`${event}${detail ? `: ${detail}` : ''}\n`);
    },
  };
}
