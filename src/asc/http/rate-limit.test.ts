import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../test/helpers/virtual-clock.js';
import { seededRandom } from '../../core/clock.js';
import type { TokenProvider } from '../../credentials/types.js';
import { createAscClient } from './client.js';
import { parseRateLimit, RateLimitTracker } from './rate-limit.js';
import type { FetchLike } from './transport.js';

const tokens: TokenProvider = { token: async () => 't', invalidate: () => {} };

/**
 * A server with Apple's kind of quota — `limit` requests per rolling window — on the fake clock. It answers only
 * GET /v1/apps; anything else fails the test.
 */
function quotaServer(clock: VirtualClock, limit: number, windowMs: number) {
  const hits: number[] = [];
  const answers = { ok: 0, limited: 0 };
  const fetch: FetchLike = async (url, init) => {
    if (init.method !== 'GET' || new URL(url).pathname !== '/v1/apps')
      throw new Error(`unexpected ${init.method} ${url}`);
    const now = clock.now();
    while (hits.length && hits[0]! <= now - windowMs) hits.shift();
    const header = (rem: number) => ({ 'x-rate-limit': `user-hour-lim:${limit};user-hour-rem:${rem};` });
    if (hits.length >= limit) {
      answers.limited++;
      return new Response('{"errors":[{"status":"429","code":"RATE_LIMIT_EXCEEDED","title":"x"}]}', {
        status: 429,
        headers: header(0),
      });
    }
    hits.push(now);
    answers.ok++;
    return new Response('{"data":[]}', { status: 200, headers: header(limit - hits.length) });
  };
  return { fetch, answers };
}

/** `workers` loops of `each` GETs at once, through clients that share one tracker or have one each. */
async function burst(shared: boolean, workers = 8, each = 10) {
  const clock = new VirtualClock();
  const server = quotaServer(clock, 10, 1000);
  const one = new RateLimitTracker(clock, clock.sleep);
  const clients = Array.from({ length: workers }, (_, i) =>
    createAscClient({
      baseUrl: 'https://asc.test',
      tokens,
      fetch: server.fetch,
      clock,
      sleep: clock.sleep,
      random: seededRandom(i + 1),
      retry: { maxAttempts: 10 },
      rateLimit: shared ? one : new RateLimitTracker(clock, clock.sleep),
    }),
  );
  await Promise.all(
    clients.map(async (c) => {
      for (let n = 0; n < each; n++) await c.request({ method: 'GET', path: '/v1/apps' });
    }),
  );
  return { ...server.answers, tracker: one, elapsedMs: clock.now() - Date.UTC(2026, 0, 1) };
}

describe('rate-limit tracker', () => {
  it('parses Apple’s X-Rate-Limit header, and ignores one it cannot read', () => {
    expect(parseRateLimit('user-hour-lim:3600;user-hour-rem:3599;')).toEqual({ limit: 3600, remaining: 3599 });
    expect(parseRateLimit('user-hour-lim:3600;')).toBeUndefined();
    expect(parseRateLimit('')).toBeUndefined();
    expect(parseRateLimit(null)).toBeUndefined();
  });

  it('clients of one key share one budget: after a 429 the whole key pauses, and finishes sooner with fewer 429s', async () => {
    const shared = await burst(true);
    const apart = await burst(false);
    // Every request got through both ways (80 answered 200), and the quota (10 a second) did run out.
    expect(shared.ok).toBe(80);
    expect(apart.ok).toBe(80);
    expect(shared.limited).toBeGreaterThan(0);
    expect(shared.tracker.limited).toBe(shared.limited);
    expect(shared.tracker.budget).toMatchObject({ limit: 10 });
    // Sharing: at most one round of the eight requests in flight per pause, fewer 429s than apart, and the
    // 80 requests done in the 7 s the quota allows, not stretched by pauses that compound.
    expect(shared.limited).toBeLessThanOrEqual(2 * 8);
    expect(shared.limited).toBeLessThan(apart.limited);
    expect(shared.elapsedMs).toBeLessThanOrEqual(8000);
    expect(shared.elapsedMs).toBeLessThan(apart.elapsedMs);
  });

  it('a burst of 429s from requests already in flight starts one pause, not one per answer', async () => {
    const clock = new VirtualClock();
    const tracker = new RateLimitTracker(clock, clock.sleep);
    const limited = async () =>
      new Response('{"errors":[]}', { status: 429, headers: { 'x-rate-limit': 'user-hour-lim:1;user-hour-rem:0;' } });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const handler = tracker.layer()(async () => {
      await gate;
      const r = await limited();
      return { status: r.status, headers: r.headers, text: await r.text() };
    });
    const req = { method: 'GET' as const, url: 'https://asc.test/v1/apps', path: '/v1/apps', headers: {}, attempt: 0 };
    const inFlight = Array.from({ length: 8 }, () => handler(req));
    release();
    await Promise.all(inFlight);
    expect(tracker.limited).toBe(8);
    // The next request waits the first pause (1 s), not 2^7 s.
    const t0 = clock.now();
    const after = tracker.layer()(async () => ({ status: 200, headers: new Headers(), text: '' }));
    await after(req);
    expect(clock.now() - t0).toBe(1000);
  });
});
