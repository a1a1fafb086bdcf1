import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema on purpose (Kysely docs).
type Db = Kysely<any>;

/**
 * Incoming App Store Connect webhooks (DESIGN §3.6, docs/SERVER.md "Incoming webhooks"). `webhooks`: one row
 * per app, our id (the one in `<public-url>/hooks/apple/<id>`), Apple's webhook id once created, and vault ids
 * of the current secret and of the previous one, accepted until `previous_until` after a rotation.
 * `webhook_events`: every accepted delivery by Apple's event id, unique per webhook, so a duplicate or a
 * replay is recorded once; `handled_at` is set once the resource was re-read, and is what waiters in other
 * processes watch. Frozen like every migration: no import of schema.ts.
 */
export function webhooks(): Migration {
  return {
    async up(db: Db) {
      await db.schema
        .createTable('webhooks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('app_ref', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
        .addColumn('key_ref', 'text', (c) => c.notNull().references('keys.id').onDelete('cascade'))
        .addColumn('asc_webhook_id', 'text')
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret_id', 'text', (c) => c.notNull())
        .addColumn('previous_secret_id', 'text')
        .addColumn('previous_until', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('last_event_at', 'text')
        .addUniqueConstraint('webhooks_team_app', ['team_id', 'app_ref'])
        .execute();
      await db.schema
        .createTable('webhook_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_ref', 'text', (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('app_ref', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text')
        .addColumn('resource_id', 'text')
        .addColumn('state', 'text')
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('handled_at', 'text')
        .addUniqueConstraint('webhook_events_once', ['webhook_ref', 'event_id'])
        .execute();
      await db.schema
        .createIndex('webhook_events_app_handled')
        .on('webhook_events')
        .columns(['team_id', 'app_ref', 'handled_at'])
        .execute();
    },
  };
}
