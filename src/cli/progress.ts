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
  /** The span of recent readings that speed and ETA are computed over (default 20 s). */
  windowMs?: number;
  /** No speed or ETA until the readings span this long (default 3 s): the first readings say nothing. */
  minSpanMs?: number;
}

/** What the upload reports besides the acknowledged bytes. */
export interface ProgressDetail {
  /** Bytes read into parts still in flight: shown as "sending", never counted as done. */
  sending?: number;
}

/**
 * Speed over a moving window of (time, acknowledged bytes) readings. Bytes already on Apple's side when the
 * run started (a resumed upload) are not speed: only growth within the window counts.
 */
export class RateWindow {
  private readonly samples: { t: number; bytes: number }[] = [];
  constructor(
    private readonly windowMs: number,
    private readonly minSpanMs: number,
  ) {}

  add(t: number, bytes: number): void {
    // Progress arrives per 64 KiB read (thousands a second): readings closer than 100 ms share one sample, so
    // the window holds a few hundred samples at most and trimming it stays cheap.
    const last = this.samples.at(-1);
    if (last && this.samples.length > 1 && t - this.samples.at(-2)!.t < 100) {
      last.t = t;
      last.bytes = bytes;
      return;
    }
    this.samples.push({ t, bytes });
    // Keep one reading older than the window so the window is always fully covered.
    while (this.samples.length > 2 && this.samples[1]!.t <= t - this.windowMs) this.samples.shift();
  }

  /** Samples kept (bounded by the window at ten a second, however often progress arrives). */
  get size(): number {
    return this.samples.length;
  }

  /** Bytes per second, or undefined until the readings span `minSpanMs`. */
  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.t - first.t < this.minSpanMs) return undefined;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }
}

export interface Reading {
  pct: number;
  rate: number | undefined;
  eta: number | undefined;
  text: string;
}

/** One reading: percent of acknowledged bytes, speed and ETA when known, and what is still being sent. */
export function describe(sent: number, total: number, sending: number, rate: number | undefined): Reading {
  const pct = total ? Math.floor((sent / total) * 100) : 100;
  const eta = rate !== undefined && rate > 0 ? Math.ceil((total - sent) / rate) : undefined;
  const speed = rate === undefined ? 'measuring speed' : `${(rate / MB).toFixed(1)} MB/s`;
  const left = sent >= total ? '' : eta === undefined ? '' : `  ETA ${eta}s`;
  const flight = sending > 0 ? ` (+${(sending / MB).toFixed(1)} MB sending)` : '';
  return {
    pct,
    rate,
    eta,
    text: `${pct}% ${(sent / MB).toFixed(1)}/${(total / MB).toFixed(1)} MB${flight}  ${speed}${left}`,
  };
}

/**
 * Upload progress counted in bytes Apple's side has acknowledged, with speed and ETA over a moving window:
 * a redrawn line on a terminal, periodic one-line reports without one (CI logs), JSON events on stderr in
 * --json mode.
 */
export function createProgress(o: ProgressOptions) {
  const window = new RateWindow(o.windowMs ?? 20_000, o.minSpanMs ?? 3_000);
  let lastLine = Number.NEGATIVE_INFINITY;
  let lastSent = 0;
  const every = o.everyMs ?? 5000;
  const render = (f: Reading, sent: number, total: number, sending: number, now: number) => {
    if (o.json) {
      if (now - lastLine >= 1000 || sent === total) {
        lastLine = now;
        const rate = f.rate === undefined ? null : Math.round(f.rate);
        o.io.stderr(`${JSON.stringify({ event: 'progress', sent, total, sending, rate, eta: f.eta ?? null })}\n`);
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
  };
  return {
    progress(sent: number, total: number, detail: ProgressDetail = {}) {
      if (o.quiet) return;
      const now = o.now();
      window.add(now, sent);
      const sending = Math.min(detail.sending ?? 0, total - sent);
      render(describe(sent, total, sending, window.rate()), sent, total, sending, now);
      lastSent = sent;
    },
    note(event: string, detail?: string) {
      if (o.quiet) return;
      if (o.json) o.io.stderr(`${JSON.stringify({ event, ...(detail ? { detail } : {}) })}\n`);
      else o.io.stderr(`${event}${detail ? `: ${detail}` : ''}\n`);
    },
  };
}
