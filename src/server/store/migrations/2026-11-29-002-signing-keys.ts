import type { Kysely, Migration } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are typed against no schema on purpose (Kysely docs).
type Db = Kysely<any>;

/**
 * Signing certificates whose private keys a team's vault holds, and keys made for a certificate create that
 * may not have finished (src/signing/key-store.ts, PendingKey). Only public facts are columns; each private key
 * is a `signing-key` secret. Frozen like every migration: no import of schema.ts.
 */
export function signingKeys(): Migration {
  return {
    async up(db: Db) {
      await db.schema
        .createTable('signing_certificates')
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('certificate_id', 'text', (c) => c.notNull())
        .addColumn('certificate_type', 'text', (c) => c.notNull())
        .addColumn('serial_number', 'text', (c) => c.notNull())
        .addColumn('expiration_date', 'text', (c) => c.notNull())
        .addColumn('certificate_content', 'text', (c) => c.notNull())
        .addColumn('secret_id', 'text', (c) => c.notNull().references('secrets.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('signing_certificates_pk', ['team_id', 'certificate_id'])
        .execute();
      await db.schema
        .createTable('signing_pending_keys')
        .addColumn('team_id', 'text', (c) => c.notNull().references('teams.id').onDelete('cascade'))
        .addColumn('spki_hash', 'text', (c) => c.notNull())
        .addColumn('spki', 'text', (c) => c.notNull())
        .addColumn('secret_id', 'text', (c) => c.notNull().references('secrets.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('signing_pending_keys_pk', ['team_id', 'spki_hash'])
        .execute();
    },
  };
}
