import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrate } from './migrate.js';
import { openStore, type Store } from './open.js';
import { describeStores } from './testing/dialects.js';

describeStores('migrations beside schemas that come and go', (ctx) => {
  it('a fresh schema migrates while other schemas of the database are created and dropped meanwhile', async () => {
    if (ctx.dialect !== 'postgres') return; // one SQLite file has no neighbours
    const other = await ctx.openAnother();
    let churning = true;
    // Another tenant (or test run) creating and dropping schemas the whole time: the race that made Kysely's
    // whole-database introspection fail with "schema … does not exist".
    const churn = (async () => {
      for (let i = 0; churning; i++) {
        const name = `churn_${process.pid}_${i}`;
        await sql`create schema ${sql.id(name)}`.execute(other.db);
        await sql`create table ${sql.id(name, 't')} (id int)`.execute(other.db);
        await sql`drop schema ${sql.id(name)} cascade`.execute(other.db);
      }
    })();
    const stores: Store[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const store = await openStore(await ctx.freshLocation());
        stores.push(store);
        expect((await migrate(store)).length).toBeGreaterThan(0);
        // Introspection sees this schema's own tables, never a neighbour's.
        const tables = await store.db.introspection.getTables();
        expect(tables.every((t) => t.schema === store.schema)).toBe(true);
        expect(tables.map((t) => t.name)).toContain('deploys');
      }
    } finally {
      churning = false;
      await churn;
      await Promise.all(stores.map((s) => s.close()));
      await other.close();
    }
  });
});
