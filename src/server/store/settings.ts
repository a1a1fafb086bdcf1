import { isoTime, type StoreDeps } from './ids.js';
import { readJson } from './json.js';
import type { Store } from './open.js';

/** A team's settings (approval policy, notification targets) as key → JSON value. */
export async function getSettings(store: Store, teamId: string): Promise<Record<string, unknown>> {
  const rows = await store.db.selectFrom('settings').select(['key', 'value']).where('team_id', '=', teamId).execute();
  return Object.fromEntries(rows.map((r) => [r.key, readJson(r.value, `setting ${r.key}`)]));
}

export async function putSetting(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  key: string,
  value: unknown,
): Promise<void> {
  const text = JSON.stringify(value) ?? 'null';
  const updated_at = isoTime(deps.clock.now());
  await store.db
    .insertInto('settings')
    .values({ team_id: teamId, key, value: text, updated_at })
    .onConflict((oc) => oc.columns(['team_id', 'key']).doUpdateSet({ value: text, updated_at }))
    .execute();
}
