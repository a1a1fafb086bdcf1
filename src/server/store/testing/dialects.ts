import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { DialectName } from '../dialect.js';
import { base32 } from '../ids.js';
import { migrate } from '../migrate.js';
import { openStore, type Store, type StoreLocation, withDefaultUser } from '../open.js';

/**
 * Runs a repository suite against SQLite (a real file) and the machine's PostgreSQL
 * (ASCEND_TEST_DATABASE_URL, default postgres://localhost/test), each block in its own fresh database or
 * schema, dropped afterwards. An unreachable PostgreSQL fails the suite under CI=true and is skipped with a
 * visible note elsewhere.
 */
export const TEST_DATABASE_URL = process.env.ASCEND_TEST_DATABASE_URL ?? 'postgres://localhost/test';
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
/** The URL as printed: a password in it stays out of test output. */
const SHOWN_URL = TEST_DATABASE_URL.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

export interface StoreContext {
  readonly dialect: DialectName;
  /** The migrated store of this block. */
  store(): Store;
  /** A second, independent connection (pool) to the same database; the caller closes it. */
  openAnother(): Promise<Store>;
  /** Where the store lives, for tests that start other processes on it. */
  location(): StoreLocation;
  /** Another empty database (not migrated), dropped with this block. */
  freshLocation(): Promise<StoreLocation>;
}

async function probePostgres(): Promise<string | undefined> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: withDefaultUser(TEST_DATABASE_URL, pg.defaults.user),
    connectionTimeoutMillis: 3000,
  });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

const pgProblem = await probePostgres();
if (pgProblem && !IN_CI) {
  console.warn(
    `NOTE: PostgreSQL at ${SHOWN_URL} is unreachable (${pgProblem}); its half of the store tests is skipped. Under CI=true it fails.`,
  );
}

async function adminQuery(text: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: withDefaultUser(TEST_DATABASE_URL, pg.defaults.user),
  });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

interface Fixture {
  location: StoreLocation;
  drop(): Promise<void>;
}

async function createFixture(dialect: DialectName): Promise<Fixture> {
  const tag = base32(crypto.getRandomValues(new Uint8Array(10)));
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'ascend-store-'));
    return {
      location: { dialect, path: join(dir, 'ascend.db') },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `t_${tag}`;
  await adminQuery(`create schema ${schema}`);
  return {
    location: { dialect, url: TEST_DATABASE_URL, schema, poolSize: 20 },
    // pg-boss keeps its tables beside the store's schema (queue/pg-boss-queue.ts bossSchemaOf).
    drop: () => adminQuery(`drop schema if exists ${schema} cascade; drop schema if exists ${schema}_boss cascade`),
  };
}

/** `describeStores('builds', (ctx) => { it(...) })` registers the block once per database. */
export function describeStores(title: string, body: (ctx: StoreContext) => void): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const name = `${title} [${dialect}]`;
    if (dialect === 'postgres' && pgProblem) {
      if (IN_CI) {
        describe(name, () => {
          it('PostgreSQL is reachable', () => {
            throw new Error(`PostgreSQL at ${SHOWN_URL} is unreachable (${pgProblem})`);
          });
        });
      } else {
        describe.skip(`${name} — skipped: PostgreSQL unreachable (${pgProblem})`, () => body(unusable(dialect)));
      }
      continue;
    }
    describe(name, () => {
      let fixture: Fixture | undefined;
      let store: Store | undefined;
      const extra: Fixture[] = [];
      beforeAll(async () => {
        fixture = await createFixture(dialect);
        store = await openStore(fixture.location);
        await migrate(store);
      });
      afterAll(async () => {
        await store?.close();
        await fixture?.drop();
        for (const f of extra) await f.drop();
      });
      body({
        dialect,
        store: () => store!,
        openAnother: () => openStore(fixture!.location),
        location: () => fixture!.location,
        freshLocation: async () => {
          const f = await createFixture(dialect);
          extra.push(f);
          return f.location;
        },
      });
    });
  }
}

function unusable(dialect: DialectName): StoreContext {
  const fail = (): never => {
    throw new Error('PostgreSQL is unreachable');
  };
  return { dialect, store: fail, openAnother: fail, location: fail, freshLocation: fail };
}
