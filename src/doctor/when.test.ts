import { describe, expect, it } from 'vitest';
import { DAY_MS } from './types.js';
import { dateOf, expiryBand, relative } from './when.js';

const NOW = Date.UTC(2027, 0, 10, 12);

describe('when', () => {
  it('says how far in days, or hours under a day, with the date', () => {
    expect(relative(NOW + 20 * DAY_MS, NOW)).toBe('in 20 days (2027-01-30)');
    expect(relative(NOW + DAY_MS, NOW)).toBe('in 1 day (2027-01-11)');
    expect(relative(NOW + 5 * 3_600_000, NOW)).toBe('in 5 hours (2027-01-10)');
    expect(relative(NOW + 1000, NOW)).toBe('in 1 hour (2027-01-10)');
    expect(relative(NOW - 3 * DAY_MS, NOW)).toBe('3 days ago (2027-01-07)');
  });

  it('bands: expired at the instant, soon up to the window inclusive, later after', () => {
    expect(expiryBand(NOW, NOW, 30)).toBe('expired');
    expect(expiryBand(NOW + 1, NOW, 30)).toBe('soon');
    expect(expiryBand(NOW + 30 * DAY_MS, NOW, 30)).toBe('soon');
    expect(expiryBand(NOW + 30 * DAY_MS + 1, NOW, 30)).toBe('later');
  });

  it('reads ISO dates and refuses what is not one', () => {
    expect(dateOf('2027-01-10T12:00:00Z')).toBe(NOW);
    expect(dateOf(null)).toBeUndefined();
    expect(dateOf('')).toBeUndefined();
    expect(dateOf('next week')).toBeUndefined();
  });
});
