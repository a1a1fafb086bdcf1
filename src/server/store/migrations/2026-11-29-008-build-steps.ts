import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema on purpose (Kysely docs).
type Db = Kysely<any>;

/**
 * Build steps (docs/SERVER.md, "Build steps"): a deploy may start by building its artifact. `build` holds the
 * command, labels, glob and timeout as JSON (never the env values); `build_env_ref` names the vault secret
 * holding the env values. Frozen like every migration: no import of schema.ts.
 */
export function buildSteps(): Migration {
  return {
    async up(db: Db) {
      await db.schema.alterTable('deploys').addColumn('build', 'text').execute();
      await db.schema.alterTable('deploys').addColumn('build_env_ref', 'text').execute();
    },
  };
}
