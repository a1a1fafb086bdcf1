import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema on purpose (Kysely docs).
type Db = Kysely<any>;

/**
 * Coordination between several servers and workers on one database (docs/SERVER.md, "Scaling out"):
 * - `queue_leases`: who runs a pg-boss job and until when; running jobs renew it, and an expired row is
 *   how a kill -9'd worker's job is found and retried (pg-boss 10 has no heartbeat of its own).
 * - `deploy_cancel_requests`: a cancel asked of a deploy that may run in another process; its worker polls.
 * - `key_slots`: the deploys holding one of a key's concurrent slots, each with a lease like a job's.
 * - `rate_budgets`: one App Store Connect rate budget per Apple key id, shared by every worker.
 * Frozen like every migration: no import of schema.ts.
 */
export function scale(): Migration {
  return {
    async up(db: Db) {
      await db.schema
        .createTable('queue_leases')
        .addColumn('job_id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('worker', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('queue_leases_expires').on('queue_leases').column('expires_at').execute();
      await db.schema
        .createTable('deploy_cancel_requests')
        .addColumn('deploy_id', 'text', (c) => c.primaryKey().references('deploys.id').onDelete('cascade'))
        .addColumn('team_id', 'text', (c) => c.notNull())
        .addColumn('requested_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('key_slots')
        .addColumn('key_ref', 'text', (c) => c.notNull())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('key_slots_pk', ['key_ref', 'holder'])
        .execute();
      await db.schema
        .createTable('rate_budgets')
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('hour_limit', 'integer')
        .addColumn('remaining', 'integer')
        .addColumn('reported_at', 'text')
        .addColumn('backoff_until', 'text')
        .execute();
    },
  };
}
