import { isoTime, type StoreDeps } from './ids.js';
import type { Store } from './open.js';
import { scaleDb } from './scale.js';

/**
 * Cancels of running deploys, through the database (migration 006): the API process that receives the
 * cancel is rarely the one running the deploy, so it leaves a flag that the running job polls.
 */

/** Flags a cancel while the deploy runs; false when it no longer runs (nothing to tell a worker). */
export async function requestCancel(store: Store, deps: StoreDeps, teamId: string, deployId: string): Promise<boolean> {
  const db = scaleDb(store);
  // Inserted only while the row says running, so a deploy that ended meanwhile keeps no stale flag.
  const res = await db
    .insertInto('deploy_cancel_requests')
    .columns(['deploy_id', 'team_id', 'requested_at'])
    .expression((eb) =>
      eb
        .selectFrom('deploys')
        .select(['id as deploy_id', 'team_id', eb.val(isoTime(deps.clock.now())).as('requested_at')])
        .where('team_id', '=', teamId)
        .where('id', '=', deployId)
        .where('state', '=', 'running'),
    )
    .onConflict((oc) => oc.column('deploy_id').doNothing())
    .executeTakeFirst();
  if (Number(res.numInsertedOrUpdatedRows ?? 0) > 0) return true;
  return (await cancelRequested(store, deployId)) === true;
}

export async function cancelRequested(store: Store, deployId: string): Promise<boolean> {
  const row = await scaleDb(store)
    .selectFrom('deploy_cancel_requests')
    .select('deploy_id')
    .where('deploy_id', '=', deployId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Once a run ends (cancelled or not), its flag is spent: a later retry starts clean. */
export async function clearCancel(store: Store, deployId: string): Promise<void> {
  await scaleDb(store).deleteFrom('deploy_cancel_requests').where('deploy_id', '=', deployId).execute();
}
