import { afterAll, expect, it } from 'vitest';
import { RateLimitTracker } from '../../asc/http/rate-limit.js';
import type { RawResponse } from '../../asc/http/types.js';
import { FakeClock } from '../../core/clock.js';
import type { Store } from '../store/open.js';
import { scaleDb } from '../store/scale.js';
import { describeStores } from '../store/testing/dialects.js';
import { dbRateBudget, SPENT_QUOTA_HOLD_MS } from './rate-budget.js';

const T0 = Date.UTC(2026, 10, 29, 5);
const req = { method: 'GET' as const, url: 'https://asc.test/v1/apps', path: '/v1/apps', headers: {}, attempt: 0 };

/** Apple for one request: the status and X-Rate-Limit given; a second request fails the test. */
function answerOnce(status: number, rateLimit?: string) {
  let used = false;
  return async (): Promise<RawResponse> => {
    if (used) throw new Error('unexpected second request');
    used = true;
    return { status, headers: new Headers(rateLimit ? { 'x-rate-limit': rateLimit } : {}), text: '{}' };
  };
}

describeStores('shared App Store Connect rate budget', (ctx) => {
  const extra: Store[] = [];
  afterAll(async () => {
    for (const s of extra.splice(0)) await s.close();
  });
  /** A worker of its own: its own connection, clock and tracker, sharing only the database. */
  async function worker(keyId: string) {
    const store = ctx.dialect === 'postgres' ? await ctx.openAnother() : ctx.store();
    if (store !== ctx.store()) extra.push(store);
    const clock = new FakeClock(T0);
    return { clock, tracker: new RateLimitTracker(clock, clock.sleep, dbRateBudget(store, clock, keyId)) };
  }

  it('after one 429 to one worker, another worker of the key holds back as long; other keys do not', async () => {
    const [a, b, other] = [await worker('KEY429A'), await worker('KEY429A'), await worker('KEY429B')];
    const limited = await a.tracker.layer()(answerOnce(429))(req);
    expect(limited.status).toBe(429);
    await b.tracker.layer()(answerOnce(200))(req);
    expect(b.clock.sleeps).toEqual([1000]);
    expect(b.clock.now()).toBe(T0 + 1000);
    await other.tracker.layer()(answerOnce(200))(req);
    expect(other.clock.sleeps).toEqual([]);
  });

  it('records the quota Apple reports; a spent quota holds every worker of the key', async () => {
    const [a, b] = [await worker('KEYSPENT'), await worker('KEYSPENT')];
    await a.tracker.layer()(answerOnce(200, 'user-hour-lim:3600;user-hour-rem:0;'))(req);
    const row = await scaleDb(ctx.store())
      .selectFrom('rate_budgets')
      .selectAll()
      .where('key_id', '=', 'KEYSPENT')
      .executeTakeFirstOrThrow();
    expect({ limit: Number(row.hour_limit), remaining: Number(row.remaining) }).toEqual({ limit: 3600, remaining: 0 });
    await b.tracker.layer()(answerOnce(200, 'user-hour-lim:3600;user-hour-rem:5;'))(req);
    expect(b.clock.sleeps).toEqual([SPENT_QUOTA_HOLD_MS]);
  });

  it('of two pauses written by two workers, the later one holds', async () => {
    const budget = dbRateBudget(ctx.store(), new FakeClock(T0), 'KEYMAX');
    await budget.pause(T0 + 5000);
    await budget.pause(T0 + 1000);
    expect(await budget.heldUntil()).toBe(T0 + 5000);
    await budget.pause(T0 + 9000);
    expect(await budget.heldUntil()).toBe(T0 + 9000);
  });
});
