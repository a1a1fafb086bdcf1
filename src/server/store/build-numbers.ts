import { sql, type Transaction } from 'kysely';
import { parseDotted } from '../../core/versions.js';
import { isoTime, newId, type StoreDeps } from './ids.js';
import { isUniqueViolation, type Store } from './open.js';
import type { Database } from './schema.js';

export interface BuildNumberRequest {
  /** App Store Connect's app id. */
  appId: string;
  version: string;
  platform: string;
  /** Every build number Apple already has for this version train (builds and live uploads). */
  appleNumbers: readonly string[];
  deployId?: string | null;
}

export interface BuildNumberAllocation {
  id: string;
  buildNumber: number;
}

/**
 * The whole-number floor Apple's numbers impose: Apple wants each build of a train higher than the last, so
 * "57" needs 58 and "3.5" needs 4. Strings that are not dotted numbers do not constrain integers.
 */
export function appleFloor(numbers: readonly string[]): number {
  let floor = 0;
  for (const n of numbers) {
    const parts = parseDotted(n);
    if (!parts || parts[0] === undefined || !Number.isSafeInteger(parts[0])) continue;
    const extra = parts.slice(1).some((p) => p > 0) ? 1 : 0;
    floor = Math.max(floor, parts[0] + extra);
  }
  return floor;
}

type Db = Store['db'] | Transaction<Database>;

/** One statement: read the highest number handed out and insert the next, so no other writer slips between. */
async function insertNext(db: Db, row: Omit<BuildNumberAllocation, 'buildNumber'> & Record<string, unknown>) {
  const r = row as {
    id: string;
    team_id: string;
    app_id: string;
    version: string;
    platform: string;
    floor: number;
    deploy_id: string | null;
    created_at: string;
  };
  const highest = sql<number>`(select max(build_number) from build_number_allocations
      where team_id = ${r.team_id} and app_id = ${r.app_id} and version = ${r.version} and platform = ${r.platform})`;
  const result = await sql<{ build_number: number }>`insert into build_number_allocations
      (id, team_id, app_id, version, platform, build_number, deploy_id, created_at)
    select ${r.id}, ${r.team_id}, ${r.app_id}, ${r.version}, ${r.platform},
      case when coalesce(${highest}, 0) > ${r.floor} then coalesce(${highest}, 0) + 1 else ${r.floor} + 1 end,
      ${r.deploy_id}, ${r.created_at}
    returning build_number`.execute(db);
  return Number(result.rows[0]!.build_number);
}

/**
 * Hands out the next free build number for (app, version, platform): above every number Apple has and every
 * number handed out before, never the same one twice, also with many workers at once. SQLite runs the single
 * statement under its write lock; PostgreSQL takes a transaction-scoped advisory lock on the train first
 * (READ COMMITTED alone would let two inserts read the same maximum). The unique constraint backs both.
 */
export async function allocateBuildNumber(
  store: Store,
  deps: StoreDeps,
  teamId: string,
  req: BuildNumberRequest,
): Promise<BuildNumberAllocation> {
  for (let attempt = 0; ; attempt++) {
    const row = {
      id: newId('bna', deps.randomBytes),
      team_id: teamId,
      app_id: req.appId,
      version: req.version,
      platform: req.platform,
      floor: appleFloor(req.appleNumbers),
      deploy_id: req.deployId ?? null,
      created_at: isoTime(deps.clock.now()),
    };
    try {
      if (store.dialect === 'sqlite') return { id: row.id, buildNumber: await insertNext(store.db, row) };
      const trainKey = `bna:${teamId}:${req.appId}:${req.version}:${req.platform}`;
      const buildNumber = await store.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtextextended(${trainKey}, 0))`.execute(trx);
        return insertNext(trx, row);
      });
      return { id: row.id, buildNumber };
    } catch (err) {
      // Only reachable if another writer bypassed the lock; the constraint refused the duplicate, so try again.
      if (!isUniqueViolation(err) || attempt >= 5) throw err;
    }
  }
}

export async function listBuildNumbers(
  store: Store,
  teamId: string,
  train: { appId: string; version: string; platform: string },
): Promise<{ buildNumber: number; deployId: string | null; createdAt: string }[]> {
  const rows = await store.db
    .selectFrom('build_number_allocations')
    .select(['build_number', 'deploy_id', 'created_at'])
    .where('team_id', '=', teamId)
    .where('app_id', '=', train.appId)
    .where('version', '=', train.version)
    .where('platform', '=', train.platform)
    .orderBy('build_number')
    .execute();
  return rows.map((r) => ({ buildNumber: Number(r.build_number), deployId: r.deploy_id, createdAt: r.created_at }));
}
