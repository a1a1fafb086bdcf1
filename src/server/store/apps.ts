import { isoTime, newId, type StoreDeps } from './ids.js';
import type { Store } from './open.js';

export interface AppRecord {
  id: string;
  ascAppId: string;
  bundleId: string;
  name: string;
  keyRef: string | null;
  syncedAt: string;
}

/** Records the apps a key can see (DESIGN §3.5: apps are synced from each key's visible apps). */
export async function upsertApps(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  apps: readonly { ascAppId: string; bundleId: string; name: string; keyRef?: string | null }[],
): Promise<void> {
  const synced_at = isoTime(deps.clock.now());
  for (const a of apps) {
    const values = { bundle_id: a.bundleId, name: a.name, key_ref: a.keyRef ?? null, synced_at };
    await store.db
      .insertInto('apps')
      .values({ id: newId('app', deps.randomBytes), team_id: teamId, asc_app_id: a.ascAppId, ...values })
      .onConflict((oc) => oc.columns(['team_id', 'asc_app_id']).doUpdateSet(values))
      .execute();
  }
}

export async function listApps(store: Store, teamId: string): Promise<AppRecord[]> {
  const rows = await store.db.selectFrom('apps').selectAll().where('team_id', '=', teamId).orderBy('name').execute();
  return rows.map((r) => ({
    id: r.id,
    ascAppId: r.asc_app_id,
    bundleId: r.bundle_id,
    name: r.name,
    keyRef: r.key_ref,
    syncedAt: r.synced_at,
  }));
}
