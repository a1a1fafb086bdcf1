import { closeSync, mkdirSync, openSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import { Kysely, SqliteAdapter, SqliteDialect, sql } from 'kysely';
import { AscendError } from '../../core/errors.js';
import type { DialectName } from './dialect.js';
import { SchemaScopedPostgresDialect } from './pg-introspector.js';
import type { Database } from './schema.js';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  /** PostgreSQL schema holding the tables (search_path); undefined on SQLite. */
  readonly schema: string | undefined;
  close(): Promise<void>;
}

export type StoreLocation =
  | { dialect: 'sqlite'; path: string }
  | { dialect: 'postgres'; url: string; schema?: string; poolSize?: number };

/** `--database-url` or, without it, `<data>/ascend.db` (DESIGN §3.1 embedded defaults). */
export function storeLocation(databaseUrl: string | undefined, dataDir: string): StoreLocation {
  if (!databaseUrl) return { dialect: 'sqlite', path: `${dataDir}/ascend.db` };
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    try {
      new URL(databaseUrl);
    } catch {
      throw new AscendError('DATABASE_URL_INVALID', '--database-url is not a valid URL');
    }
    // `?schema=NAME` keeps ascend's tables in their own schema (one database shared by several servers).
    const url = new URL(databaseUrl);
    const schema = url.searchParams.get('schema');
    if (schema === null) return { dialect: 'postgres', url: databaseUrl };
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new AscendError('DATABASE_URL_INVALID', 'the schema in --database-url must be a lower-case SQL name');
    url.searchParams.delete('schema');
    return { dialect: 'postgres', url: url.toString(), schema };
  }
  if (databaseUrl.startsWith('sqlite:')) return { dialect: 'sqlite', path: databaseUrl.slice('sqlite:'.length) };
  // The URL may hold a password: name only its scheme.
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(databaseUrl)?.[0] ?? 'this value';
  throw new AscendError('DATABASE_URL_INVALID', `--database-url with ${scheme} is not supported`);
}

/**
 * SQLite's migration lock in Kysely does nothing ("SQLite only has one connection"), which holds for one
 * process only. Two processes starting on one file would both migrate, so the lock here is a real one:
 * BEGIN IMMEDIATE takes the database's write lock (the loser waits through busy_timeout), and the whole
 * run, DDL included, commits or rolls back as one transaction.
 */
export class LockingSqliteAdapter extends SqliteAdapter {
  failed = false;
  private locked = false;
  override async acquireMigrationLock(db: Kysely<unknown>): Promise<void> {
    this.failed = false;
    await sql.raw('begin immediate').execute(db);
    this.locked = true;
  }
  override async releaseMigrationLock(db: Kysely<unknown>): Promise<void> {
    if (!this.locked) return;
    this.locked = false;
    await sql.raw(this.failed ? 'rollback' : 'commit').execute(db);
  }
}

class LockingSqliteDialect extends SqliteDialect {
  readonly adapter = new LockingSqliteAdapter();
  override createAdapter(): LockingSqliteAdapter {
    return this.adapter;
  }
}

async function openSqlite(path: string): Promise<Store> {
  // Server-only drivers load on demand, so the CLI's start-up never pays for them (DESIGN §2).
  const { default: SQLite } = await import('better-sqlite3');
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Owner-only from the first byte; SQLite gives its -wal and -shm files the database file's mode.
    closeSync(openSync(path, 'a', 0o600));
  }
  const dialect = new LockingSqliteDialect({
    database: async () => {
      const conn = new SQLite(path, { timeout: 10_000 });
      // WAL lets readers run during a write; without it n8n saw SQLITE_BUSY under load (n8n#2145).
      conn.pragma('journal_mode = WAL');
      conn.pragma('synchronous = NORMAL');
      conn.pragma('foreign_keys = ON');
      return conn;
    },
  });
  const db = new Kysely<Database>({ dialect });
  return { db, dialect: 'sqlite', schema: undefined, close: () => db.destroy() };
}

async function openPostgres(url: string, schema = 'public', poolSize = 10): Promise<Store> {
  const { default: pg } = await import('pg');
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new AscendError('DATABASE_URL_INVALID', `PostgreSQL schema name ${JSON.stringify(schema)} is not allowed`, {
      remedy: 'Use a schema name of lower-case letters, digits and underscores.',
    });
  }
  const pool = new pg.Pool({
    connectionString: withDefaultUser(url, pg.defaults.user),
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    options: `-c search_path=${schema}`,
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await pool.end().catch(() => {});
    const code = (cause as { code?: string }).code ?? 'no answer';
    throw new AscendError('DATABASE_UNREACHABLE', `cannot connect to PostgreSQL (${code})`, { cause });
  }
  const db = new Kysely<Database>({ dialect: new SchemaScopedPostgresDialect({ pool }, schema) });
  return { db, dialect: 'postgres', schema, close: () => db.destroy() };
}

/**
 * libpq connects as the OS user when the URL names none; pg uses PGUSER/USER and sends no name at all when
 * both are unset (as under some service managers), which PostgreSQL refuses with 28000. Fill the gap as libpq does.
 */
export function withDefaultUser(url: string, pgDefaultUser: string | undefined): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (u.username !== '' || pgDefaultUser) return url;
  // pg lets the URL's (missing) user override an explicit `user` option, so the name goes into the URL.
  u.username = encodeURIComponent(userInfo().username);
  return u.toString();
}

/** Opens the database; call `migrate()` before use. */
export function openStore(location: StoreLocation): Promise<Store> {
  return location.dialect === 'sqlite'
    ? openSqlite(location.path)
    : openPostgres(location.url, location.schema, location.poolSize);
}

/** True for a unique or primary-key violation, on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
