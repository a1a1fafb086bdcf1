import { AscendError } from './errors.js';

/** Parses "90s", "15m", "1h30m", "2h" or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const re = /(\d+)(ms|s|m|h)/g;
  let total = 0;
  let consumed = '';
  for (const m of trimmed.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
    consumed += m[0];
  }
  if (!trimmed || consumed !== trimmed) {
    throw new AscendError('USAGE', `"${text}" is not a duration`, {
      remedy: 'Use a duration such as 90s, 15m or 1h30m.',
    });
  }
  return total;
}
