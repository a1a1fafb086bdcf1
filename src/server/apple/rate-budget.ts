import { sql } from 'kysely';
import type { SharedRateBudget } from '../../asc/http/rate-limit.js';
import type { Clock } from '../../core/clock.js';
import { isoTime } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { scaleDb } from '../store/scale.js';

/** How long a key holds back once Apple reported its hourly quota spent (then one request finds out again). */
export const SPENT_QUOTA_HOLD_MS = 60_000;

/**
 * One App Store Connect rate budget per Apple key id in the database (migration 006), shared by every
 * server and worker: Apple counts requests per key over a rolling hour (`X-Rate-Limit:
 * user-hour-lim:3600;user-hour-rem:N;`), so three workers on one key must see one budget and, after a 429
 * to any of them, back off together.
 */
export function dbRateBudget(store: Store, clock: Clock, keyId: string): SharedRateBudget {
  const db = scaleDb(store);
  return {
    async heldUntil() {
      const row = await db
        .selectFrom('rate_budgets')
        .select(['backoff_until', 'remaining', 'reported_at'])
        .where('key_id', '=', keyId)
        .executeTakeFirst();
      if (!row) return 0;
      const backoff = row.backoff_until ? Date.parse(row.backoff_until) : 0;
      const spent =
        row.remaining !== null && Number(row.remaining) <= 0 && row.reported_at
          ? Date.parse(row.reported_at) + SPENT_QUOTA_HOLD_MS
          : 0;
      return Math.max(backoff, spent);
    },
    async report(limit, remaining) {
      const values = { hour_limit: limit, remaining, reported_at: isoTime(clock.now()) };
      await db
        .insertInto('rate_budgets')
        .values({ key_id: keyId, ...values, backoff_until: null })
        .onConflict((oc) => oc.column('key_id').doUpdateSet(values))
        .execute();
    },
    async pause(until) {
      const at = isoTime(until);
      // The later pause wins, whichever worker wrote first (ISO times compare as text).
      await db
        .insertInto('rate_budgets')
        .values({ key_id: keyId, hour_limit: null, remaining: null, reported_at: null, backoff_until: at })
        .onConflict((oc) =>
          oc.column('key_id').doUpdateSet({
            backoff_until: sql<string>`case when rate_budgets.backoff_until is null or rate_budgets.backoff_until < ${at} then ${at} else rate_budgets.backoff_until end`,
          }),
        )
        .execute();
    },
  };
}
