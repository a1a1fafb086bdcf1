import { DAY_MS } from './types.js';

/** Milliseconds of an ISO date from Apple, or undefined for a missing or unreadable one. */
export function dateOf(iso: string | null | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

/** `in 20 days (2027-01-05)`, `in 3 hours (2027-01-05)`, `3 days ago (2027-01-05)`: what a reader needs to act. */
export function relative(at: number, now: number): string {
  const day = new Date(at).toISOString().slice(0, 10);
  const diff = at - now;
  const abs = Math.abs(diff);
  const amount =
    abs >= DAY_MS ? plural(Math.floor(abs / DAY_MS), 'day') : plural(Math.max(1, Math.floor(abs / 3_600_000)), 'hour');
  return diff > 0 ? `in ${amount} (${day})` : `${amount} ago (${day})`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** Where `at` falls against now and a warning window: past, within the window, or later. */
export function expiryBand(at: number, now: number, windowDays: number): 'expired' | 'soon' | 'later' {
  if (at <= now) return 'expired';
  return at - now <= windowDays * DAY_MS ? 'soon' : 'later';
}
