import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrate, migrationList } from './migrate.js';
import { openStore, storeLocation } from './open.js';
import { describeStores } from './testing/dialects.js';

const run = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url));

const TABLES = [
  'teams',
  'users',
  'memberships',
  'sessions',
  'api_tokens',
  'sign_in_links',
  'secrets',
  'keys',
  'apps',
  'build_number_allocations',
  'artifacts',
  'deploys',
  'deploy_events',
  'jobs',
  'step_state',
  'audit_log',
  'settings',
];

describeStores('migrations', (ctx) => {
  it('creates every table, and a second run changes nothing', async () => {
    const store = ctx.store();
    const names = (await store.db.introspection.getTables())
      .filter((t) => !store.schema || t.schema === store.schema)
      .map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(TABLES));
    expect(await migrate(store)).toEqual([]);
  });

  it('refuses a database migrated by a newer ascend, with a one-line error', async () => {
    const store = ctx.store();
    await sql`insert into kysely_migration (name, timestamp) values ('2099-01-01-001-future', '2099-01-01')`.execute(
      store.db,
    );
    try {
      const err = await migrate(store).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'DATABASE_SCHEMA_NEWER' });
      expect((err as Error).message).toContain('2099-01-01-001-future');
      expect((err as Error).message).not.toContain('\n');
    } finally {
      await sql`delete from kysely_migration where name = '2099-01-01-001-future'`.execute(store.db);
    }
  });

  // Two SQLite connections in one process would block each other's event loop (better-sqlite3 waits
  // synchronously), so SQLite is exercised with two processes below.
  if (ctx.dialect === 'postgres')
    it('two pools migrating one empty schema at once both succeed, once', async () => {
      const location = await ctx.freshLocation();
      const a = await openStore(location);
      const b = await openStore(location);
      try {
        const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
        // Every migration ran once, by one of the two.
        const names = Object.keys(migrationList(a));
        expect(names[0]).toBe('2026-11-29-001-initial');
        expect([...ra, ...rb].sort()).toEqual(names);
        const rows = await sql<{ n: number | string }>`select count(*) as n from kysely_migration`.execute(a.db);
        expect(Number(rows.rows[0]!.n)).toBe(names.length);
      } finally {
        await a.close();
        await b.close();
      }
    });

  if (ctx.dialect === 'sqlite')
    it('two processes starting on one SQLite file at once both come up', async () => {
      const location = await ctx.freshLocation();
      if (location.dialect !== 'sqlite') throw new Error('expected SQLite');
      const child = () =>
        run(process.execPath, ['--import', 'tsx', join(HERE, 'testing', 'migrate-child.ts'), location.path], {
          timeout: 60_000,
        });
      const [a, b] = await Promise.all([child(), child()]);
      const ran = [a.stdout, b.stdout].map((s) => JSON.parse(s) as string[]);
      const store = await openStore(location);
      try {
        expect(ran.flat().sort()).toEqual(Object.keys(migrationList(store)));
        expect(await migrate(store)).toEqual([]);
      } finally {
        await store.close();
      }
    });
});

it('storeLocation picks SQLite under --data unless a PostgreSQL URL is given, and names bad URLs', () => {
  expect(storeLocation(undefined, '/d')).toEqual({ dialect: 'sqlite', path: '/d/ascend.db' });
  expect(storeLocation('postgres://u@h/db', '/d')).toEqual({ dialect: 'postgres', url: 'postgres://u@h/db' });
  expect(storeLocation('sqlite:/x/y.db', '/d')).toEqual({ dialect: 'sqlite', path: '/x/y.db' });
  let err: unknown;
  try {
    storeLocation('mysql://root:hunter2@h/db', '/d');
  } catch (e) {
    err = e;
  }
  expect(err).toMatchObject({ code: 'DATABASE_URL_INVALID' });
  expect((err as Error).message).not.toContain('hunter2');
});

it('an unreachable PostgreSQL is DATABASE_UNREACHABLE, naming the cause but not the password', async () => {
  const err = await openStore({ dialect: 'postgres', url: 'postgres://bench:hunter2@127.0.0.1:1/none' }).catch(
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'DATABASE_UNREACHABLE', exitCode: 9 });
  expect((err as Error).message).toBe('cannot connect to PostgreSQL (ECONNREFUSED)');
});

it('a migration that fails is DATABASE_MIGRATION_FAILED and leaves the database as it was', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'ascend-migrate-fail-'));
  const store = await openStore({ dialect: 'sqlite', path: join(dir, 'ascend.db') });
  try {
    // A table of the same name as the first migration's, made by something else: the upgrade cannot proceed.
    await sql`create table teams (other text)`.execute(store.db);
    const err = await migrate(store).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATABASE_MIGRATION_FAILED', exitCode: 1 });
    expect((err as Error).message).not.toContain('\n');
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(store.db);
    expect(tables.rows.map((r) => r.name).filter((n) => !n.startsWith('kysely_'))).toEqual(['teams']);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
