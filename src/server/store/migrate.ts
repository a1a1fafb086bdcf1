import { type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { AscendError } from '../../core/errors.js';
import { initial } from './migrations/2026-11-29-001-initial.js';
import { signingKeys } from './migrations/2026-11-29-002-signing-keys.js';
import { alerts } from './migrations/2026-11-29-003-alerts.js';
import { webhooks } from './migrations/2026-11-29-004-webhooks.js';
import { notifications } from './migrations/2026-11-29-005-notifications.js';
import { scale } from './migrations/2026-11-29-006-scale.js';
import { workers } from './migrations/2026-11-29-007-workers.js';
import { buildSteps } from './migrations/2026-11-29-008-build-steps.js';
import { LockingSqliteAdapter, type Store } from './open.js';

/** Every migration, in order. Names sort by date; a name, once released, never changes. */
export function migrationList(store: Store): Record<string, Migration> {
  return {
    '2026-11-29-001-initial': initial(store.dialect),
    '2026-11-29-002-signing-keys': signingKeys(),
    '2026-11-29-003-alerts': alerts(),
    '2026-11-29-004-webhooks': webhooks(),
    '2026-11-29-005-notifications': notifications(),
    '2026-11-29-006-scale': scale(),
    '2026-11-29-007-workers': workers(),
    '2026-11-29-008-build-steps': buildSteps(),
  };
}

const MIGRATION_TABLE = 'kysely_migration';

/** Names the database has run, or [] for a fresh database. */
async function executedNames(store: Store): Promise<string[]> {
  const tables = await store.db.introspection.getTables({ withInternalKyselyTables: true });
  const exists = tables.some((t) => t.name === MIGRATION_TABLE && (!store.schema || t.schema === store.schema));
  if (!exists) return [];
  const rows = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(store.db);
  return rows.rows.map((r) => r.name);
}

function refuseNewer(executed: string[], known: string[]): void {
  const unknown = executed.filter((n) => !known.includes(n)).sort();
  if (unknown.length > 0) {
    throw new AscendError(
      'DATABASE_SCHEMA_NEWER',
      `the database's schema is newer than this ascend (it has migration ${unknown.at(-1)})`,
      { details: { unknown } },
    );
  }
}

/**
 * Brings the schema up to date at start. Safe when two processes start at once: PostgreSQL serialises
 * through Kysely's advisory lock, SQLite through a write-locked transaction (LockingSqliteAdapter). A database
 * that a newer ascend has migrated is refused rather than run with a schema this code does not know.
 */
export async function migrate(store: Store): Promise<string[]> {
  const list = migrationList(store);
  refuseNewer(await executedNames(store), Object.keys(list));
  const adapter = store.db.getExecutor().adapter;
  const guarded: Record<string, Migration> = {};
  for (const [name, m] of Object.entries(list)) {
    guarded[name] = {
      up: async (db) => {
        try {
          await m.up(db);
        } catch (err) {
          if (adapter instanceof LockingSqliteAdapter) adapter.failed = true;
          throw err;
        }
      },
    };
  }
  const provider: MigrationProvider = { getMigrations: async () => guarded };
  const migrator = new Migrator({
    db: store.db,
    provider,
    ...(store.schema && store.dialect === 'postgres' ? { migrationTableSchema: store.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    // A process that started between our check and the lock may have run a newer migration.
    refuseNewer(await executedNames(store), Object.keys(list));
    throw new AscendError('DATABASE_MIGRATION_FAILED', `upgrading the database failed: ${describe(error)}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}
