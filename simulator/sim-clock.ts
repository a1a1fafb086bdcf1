import type { Clock } from '../src/core/clock.js';
import { simError } from './errors.js';

/** Milliseconds of an ISO 8601 date-time (`2027-01-31T12:00:00Z`); anything else is refused with a 400. */
export function parseIsoDate(iso: string): number {
  const t = Date.parse(iso);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso) || Number.isNaN(t))
    throw simError(400, 'PARAMETER_ERROR.INVALID', 'A parameter has an invalid value', `'${iso}' is not an ISO date`);
  return t;
}

/**
 * The simulator's "now" for resources (expiry, validity, processing, review): the injected clock plus an
 * offset set by `--clock ISO` or `POST /__sim/clock`. Tokens are always checked against the injected clock
 * itself, because clients mint them on theirs (DESIGN §3.4).
 */
export class SimClock implements Clock {
  private offsetMs = 0;
  constructor(readonly base: Clock) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  set(iso: string): void {
    this.offsetMs = parseIsoDate(iso) - this.base.now();
  }

  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0)
      throw simError(
        400,
        'PARAMETER_ERROR.INVALID',
        'A parameter has an invalid value',
        'advanceSeconds must be a non-negative number',
      );
    this.offsetMs += seconds * 1000;
  }
}
