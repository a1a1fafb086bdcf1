import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema on purpose (Kysely docs).
type Db = Kysely<any>;

/**
 * Outgoing notifications (docs/SERVER.md, "Notifications"): a team's targets (their URL and secret sealed in
 * the vault: `secret_id`), the events that happened (one row per `dedup_key`, so an event seen twice — a
 * resumed deploy, a re-run check — is sent once), one delivery per (event, target) and one row per HTTP
 * attempt. Frozen like every migration: no import of schema.ts.
 */
export function notifications(): Migration {
  return {
    async up(db: Db) {
      await db.schema
        .createTable('notification_targets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('secret_id', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('notification_targets_team_name', ['team_id', 'name'])
        .execute();
      await db.schema
        .createTable('notification_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('dedup_key', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('notification_events_team_dedup', ['team_id', 'dedup_key'])
        .execute();
      await db.schema
        .createTable('notification_deliveries')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('target_id', 'text', (c) => c.notNull().references('notification_targets.id').onDelete('cascade'))
        .addColumn('event_id', 'text', (c) => c.notNull().references('notification_events.id').onDelete('cascade'))
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('next_attempt_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .execute();
      await db.schema
        .createIndex('notification_deliveries_team_created')
        .on('notification_deliveries')
        .columns(['team_id', 'created_at'])
        .execute();
      await db.schema
        .createTable('notification_attempts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('delivery_id', 'text', (c) =>
          c.notNull().references('notification_deliveries.id').onDelete('cascade'),
        )
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('notification_attempts_delivery')
        .on('notification_attempts')
        .columns(['delivery_id', 'attempt'])
        .execute();
    },
  };
}
