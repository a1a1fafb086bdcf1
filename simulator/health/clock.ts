import type { Clock } from '../../src/core/clock.js';
import { simError } from '../errors.js';

const badDate = (what: string) =>
  simError(400, 'PARAMETER_ERROR.INVALID', 'A parameter has an invalid value', `'${what}' is not an ISO date`);

/** Milliseconds of an ISO 8601 date-time (`2027-01-31T12:00:00Z`); anything else is refused. */
export function parseIsoDate(iso: string): number {
  const t = Date.parse(iso);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(iso) || Number.isNaN(t)) throw badDate(iso);
  return t;
}

/**
 * The simulator's "now" for resources (expiry, validity, processing, review): the injected clock plus an
 * offset set by `--clock ISO` or `POST /__sim/clock`. Tokens are always checked against `base`, because
 * clients mint them on their own clock (DESIGN §3.4).
 */
export class SimClock implements Clock {
  private offsetMs = 0;

  constructor(
    readonly base: Clock,
    startAt?: string,
  ) {
    if (startAt !== undefined) this.set(startAt);
  }

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  set(iso: string): void {
    this.offsetMs = parseIsoDate(iso) - this.base.now();
  }

  /** Time only moves forward: expiry that has happened cannot un-happen. */
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
