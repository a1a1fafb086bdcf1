import type { Transaction } from 'kysely';
import { isoTime, type StoreDeps } from './ids.js';
import type { Store } from './open.js';
import { type ScaleTables, scaleDb } from './scale.js';
import type { Database } from './schema.js';

/** Deploys a key runs at once unless the team's `deploysPerKey` setting says otherwise. */
export const DEFAULT_DEPLOYS_PER_KEY = 2;

/** The team's `deploysPerKey` (1–50), or the default when unset or unusable. */
export function deploysPerKey(settings: Record<string, unknown>): number {
  const v = settings.deploysPerKey;
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 50 ? v : DEFAULT_DEPLOYS_PER_KEY;
}

/**
 * Takes one of a key's concurrent slots for `holder` (a deploy job's run: job id and attempt) until `leaseMs`
 * from now, across every worker on the database (migration 006). Lapsed slots (a killed worker's) are freed
 * first; a holder that already has one keeps it. On PostgreSQL the key's row is locked meanwhile,
 * so two workers cannot both take the last slot; SQLite has one writer anyway.
 */
export async function takeKeySlot(
  store: Store,
  deps: StoreDeps,
  slot: { keyRef: string; holder: string; limit: number; leaseMs: number },
): Promise<boolean> {
  const now = deps.clock.now();
  return scaleDb(store)
    .transaction()
    .execute(async (trx) => {
      if (store.dialect === 'postgres')
        await trx.selectFrom('keys').select('id').where('id', '=', slot.keyRef).forUpdate().execute();
      await trx
        .deleteFrom('key_slots')
        .where('key_ref', '=', slot.keyRef)
        .where('expires_at', '<', isoTime(now))
        .execute();
      const expires_at = isoTime(now + slot.leaseMs);
      if (await renew(trx, slot.keyRef, slot.holder, expires_at)) return true;
      const held = await trx
        .selectFrom('key_slots')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('key_ref', '=', slot.keyRef)
        .executeTakeFirstOrThrow();
      if (Number(held.n) >= slot.limit) return false;
      await trx.insertInto('key_slots').values({ key_ref: slot.keyRef, holder: slot.holder, expires_at }).execute();
      return true;
    });
}

async function renew(
  db: Transaction<Database & ScaleTables> | ReturnType<typeof scaleDb>,
  keyRef: string,
  holder: string,
  expiresAt: string,
): Promise<boolean> {
  const r = await db
    .updateTable('key_slots')
    .set({ expires_at: expiresAt })
    .where('key_ref', '=', keyRef)
    .where('holder', '=', holder)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Extends a held slot; false when it lapsed and was taken from this holder. */
export function renewKeySlot(store: Store, deps: StoreDeps, keyRef: string, holder: string, leaseMs: number) {
  return renew(scaleDb(store), keyRef, holder, isoTime(deps.clock.now() + leaseMs));
}

export async function releaseKeySlot(store: Store, keyRef: string, holder: string): Promise<void> {
  await scaleDb(store).deleteFrom('key_slots').where('key_ref', '=', keyRef).where('holder', '=', holder).execute();
}
