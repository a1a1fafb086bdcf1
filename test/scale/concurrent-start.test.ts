import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { realSleep, systemClock } from '../../src/core/clock.js';
import { openJobQueue } from '../../src/server/queue/open.js';
import { bossSchemaOf } from '../../src/server/queue/pg-boss-queue.js';
import { systemDeps } from '../../src/server/store/ids.js';
import { migrate, migrationList } from '../../src/server/store/migrate.js';
import { openStore } from '../../src/server/store/open.js';
import { describeStores } from '../../src/server/store/testing/dialects.js';

/**
 * Several servers starting at once on one empty PostgreSQL schema: Kysely's migrator takes
 * pg_advisory_xact_lock, so one runs the migrations and the others wait and find them done; pg-boss's
 * schema is installed once the same way (queue/pg-boss-queue.ts).
 */
describeStores('servers starting at once', (ctx) => {
  if (ctx.dialect !== 'postgres') {
    it.skip('PostgreSQL only (SQLite: src/server/store/migrate.test.ts, two processes)', () => {});
    return;
  }

  it('five migrators and queues on one fresh schema: every migration runs once, pg-boss installs once', async () => {
    const location = await ctx.freshLocation();
    const stores = await Promise.all(Array.from({ length: 5 }, () => openStore(location)));
    try {
      const ran = await Promise.all(stores.map((s) => migrate(s)));
      const names = Object.keys(migrationList(stores[0]!));
      expect(ran.flat().sort()).toEqual(names);
      const rows = await sql<{ n: string }>`select count(*) as n from kysely_migration`.execute(stores[0]!.db);
      expect(Number(rows.rows[0]!.n)).toBe(names.length);
      const queues = await Promise.all(
        stores.map((s, i) =>
          openJobQueue(s, systemDeps, {
            worker: `w${i}`,
            concurrency: 2,
            pollMs: 5,
            sleep: realSleep,
            clock: systemClock,
          }),
        ),
      );
      expect(queues.map((q) => q.name)).toEqual(Array(5).fill('pg-boss'));
      const boss = bossSchemaOf(stores[0]!);
      const v = await sql<{ n: string }>`select count(*) as n from ${sql.table(`${boss}.version`)}`.execute(
        stores[0]!.db,
      );
      expect(Number(v.rows[0]!.n)).toBe(1);
      // Jobs go to exactly one of the five.
      const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => queues[i % 5]!.enqueue('scale-test', { i })));
      const runs = new Map<string, string[]>();
      let done!: () => void;
      const all = new Promise<void>((r) => {
        done = r;
      });
      let count = 0;
      queues.forEach((q, i) => {
        q.work(['scale-test'], async (job) => {
          runs.set(job.id, [...(runs.get(job.id) ?? []), `w${i}`]);
          if (++count === ids.length) done();
        });
      });
      await all;
      await Promise.all(queues.map((q) => q.stop()));
      expect([...runs.keys()].sort()).toEqual([...ids].sort());
      expect([...runs.values()].every((w) => w.length === 1)).toBe(true);
    } finally {
      await sql.raw(`drop schema if exists ${bossSchemaOf(stores[0]!)} cascade`).execute(stores[0]!.db);
      for (const s of stores) await s.close();
    }
  });
});
