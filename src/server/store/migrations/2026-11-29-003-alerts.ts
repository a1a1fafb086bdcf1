import { type Kysely, type Migration, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema on purpose (Kysely docs).
type Db = Kysely<any>;

/**
 * What the monitor found for a team's key (docs/SERVER.md, "Alerts"). One row per episode: a finding that
 * goes away is resolved (`resolved_at`), and one that comes back opens a new row. The partial unique index
 * keeps at most one open row per (team, key, code, subject), so two checks at once cannot open it twice.
 * Frozen like every migration: no import of schema.ts.
 */
export function alerts(): Migration {
  return {
    async up(db: Db) {
      await db.schema
        .createTable('alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('key_ref', 'text', (c) => c.notNull().references('keys.id').onDelete('cascade'))
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('fix', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .execute();
      await db.schema
        .createIndex('alerts_open_unique')
        .on('alerts')
        .columns(['team_id', 'key_ref', 'code', 'subject'])
        .unique()
        .where(sql.ref('resolved_at'), 'is', null)
        .execute();
      await db.schema.createIndex('alerts_team_seen').on('alerts').columns(['team_id', 'last_seen_at']).execute();
    },
  };
}
