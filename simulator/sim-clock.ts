import type { Clock } from '../src/core/clock.js';
import { simError } from './errors.js';

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
    const t = Date.parse(iso);
    if (!/^\d{4}-\d\d-\d\dT/.test(iso) || Number.isNaN(t))
      throw simError(400, 'PARAMETER_ERROR.INVALID', 'A parameter has an invalid value', `'${iso}' is not an ISO date`);
    this.offsetMs = t - this.base.now();
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
