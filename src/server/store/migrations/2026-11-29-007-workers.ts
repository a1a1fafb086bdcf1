import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema on purpose (Kysely docs).
type Db = Kysely<any>;

/**
 * Worker tokens (docs/SERVER.md, "Workers on other machines"): a worker serves every team, so its token is
 * not a team's API token. Only the SHA-256 of a token is kept; a revoked token stays listed. Frozen like
 * every migration: no import of schema.ts.
 */
export function workers(): Migration {
  return {
    async up(db: Db) {
      await db.schema
        .createTable('worker_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('token_prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
    },
  };
}
