import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { realSleep, systemClock } from '../../core/clock.js';
import type { Store } from '../store/open.js';
import { scaleDb } from '../store/scale.js';
import { describeStores } from '../store/testing/dialects.js';
import { withFailingUpdates } from '../store/testing/failing-store.js';
import { defineJobQueueContract } from './job-queue.contract.js';
import { bossSchemaOf, openPgBossQueue, type PgBossJobQueue, type PgBossQueueOptions } from './pg-boss-queue.js';
import type { GivenUpJob } from './types.js';

const base = (worker: string): PgBossQueueOptions => ({
  worker,
  concurrency: 3,
  leaseMs: 30_000,
  pollMs: 5,
  clock: systemClock,
  sleep: realSleep,
});

/** A clock that moves only when the queue sleeps: the heartbeat's pace, with no wall-clock time asserted. */
function steppedTime() {
  let now = Date.UTC(2026, 10, 29, 6);
  return {
    clock: { now: () => now },
    sleep: async (ms: number, signal?: AbortSignal) => {
      await realSleep(1, signal);
      now += ms;
    },
  };
}

/** pg-boss lives in PostgreSQL only; the SQLite half of describeStores is not registered. */
function describePostgres(title: string, body: Parameters<typeof describeStores>[1]): void {
  describeStores(title, (ctx) => {
    if (ctx.dialect !== 'postgres') {
      it.skip('pg-boss runs on PostgreSQL only', () => {});
      return;
    }
    const stores: Store[] = [];
    afterAll(async () => {
      await sql.raw(`drop schema if exists ${bossSchemaOf(ctx.store())} cascade`).execute(ctx.store().db);
      for (const s of stores.splice(0)) await s.close();
    });
    body({
      ...ctx,
      openAnother: async () => {
        const s = await ctx.openAnother();
        stores.push(s);
        return s;
      },
    });
  });
}

describePostgres('pg-boss job queue', (ctx) => {
  // Each worker gets its own pool, as separate processes would.
  defineJobQueueContract('pg-boss', {
    create: async (worker) => openPgBossQueue(await ctx.openAnother(), base(worker)),
  });

  it('a job leased by a killed worker is failed by the reaper and run again elsewhere, as attempt 2', async () => {
    const kind = `dead${randomBytes(4).toString('hex')}`;
    let now = Date.UTC(2026, 10, 29, 5);
    const clock = { now: () => now };
    // The worker that dies: it takes the job, then neither renews nor settles it until the end (kill -9, or
    // a process frozen past its lease); its late finish must change nothing.
    const dead = await openPgBossQueue(await ctx.openAnother(), { ...base('dead'), clock, concurrency: 1 });
    const id = await dead.enqueue(kind, { deployId: 'dep_x' });
    let wake!: () => void;
    const frozen = new Promise<void>((r) => {
      wake = r;
    });
    const taken = new Promise<void>((r) =>
      dead.work([kind], () => {
        r();
        return frozen;
      }),
    );
    await taken;
    const alive = await openPgBossQueue(await ctx.openAnother(), { ...base('alive'), clock, concurrency: 1 });
    const lease = await scaleDb(ctx.store()).selectFrom('queue_leases').selectAll().where('job_id', '=', id).execute();
    expect(lease).toMatchObject([{ worker: 'dead', kind }]);
    expect(await alive.reap()).toBe(0);
    now += 30_001;
    expect(await alive.reap()).toBe(1);
    const seen = await new Promise<{ attempt: number; payload: unknown }>((resolve) =>
      alive.work([kind], async (job) => resolve({ attempt: job.attempt, payload: job.payload })),
    );
    await alive.stop();
    expect(seen).toEqual({ attempt: 2, payload: { deployId: 'dep_x' } });
    wake();
    await dead.stop();
    const rows = await sql<{
      state: string;
      retry_count: number;
    }>`select state, retry_count from ${sql.table(`${bossSchemaOf(ctx.store())}.job`)} where id = ${id}`.execute(
      ctx.store().db,
    );
    expect(rows.rows).toEqual([{ state: 'completed', retry_count: 1 }]);
  });

  it('a worker whose lease was taken is told through its signal, and cannot complete the job', async () => {
    const kind = `lost${randomBytes(4).toString('hex')}`;
    const q: PgBossJobQueue = await openPgBossQueue(await ctx.openAnother(), {
      ...base('w1'),
      leaseMs: 60,
      concurrency: 1,
    });
    const id = await q.enqueue(kind, {});
    const reason = await new Promise<string>((resolve) =>
      q.work([kind], async (job) => {
        await scaleDb(ctx.store())
          .updateTable('queue_leases')
          .set({ worker: 'w2' })
          .where('job_id', '=', job.id)
          .execute();
        await new Promise<void>((r) => job.signal.addEventListener('abort', () => r(), { once: true }));
        resolve(String((job.signal.reason as Error).message));
      }),
    );
    await q.stop();
    expect(reason).toMatch(/another worker/);
    const state = await sql<{
      state: string;
    }>`select state from ${sql.table(`${bossSchemaOf(ctx.store())}.job`)} where id = ${id}`.execute(ctx.store().db);
    expect(state.rows[0]?.state).toBe('active');
  });

  it('a worker whose lease renewals fail is told once the lease has run out since the last renewal', async () => {
    const kind = `cut${randomBytes(4).toString('hex')}`;
    const time = steppedTime();
    let failing = false;
    const leaseMs = 300;
    const q = await openPgBossQueue(
      withFailingUpdates(await ctx.openAnother(), () => failing),
      {
        ...base('w1'),
        ...time,
        leaseMs,
        concurrency: 1,
      },
    );
    await q.enqueue(kind, {});
    const seen = await new Promise<{ aborted: boolean; reason: string }>((resolve) =>
      q.work([kind], async (job) => {
        const start = time.clock.now();
        failing = true;
        // Bounded: without the fix the heartbeat swallows the errors and the signal never fires.
        while (!job.signal.aborted && time.clock.now() < start + 10 * leaseMs) await realSleep(1);
        failing = false;
        resolve({ aborted: job.signal.aborted, reason: String((job.signal.reason as Error | undefined)?.message) });
      }),
    );
    await q.stop();
    expect(seen.aborted).toBe(true);
    expect(seen.reason).toMatch(/renewals failed/);
  });

  it('the queue reports each job it gives up on (last attempt reaped or failed), never one it retries', async () => {
    const lostKind = `gone${randomBytes(4).toString('hex')}`;
    const failKind = `fail${randomBytes(4).toString('hex')}`;
    let now = Date.UTC(2026, 10, 29, 6);
    const clock = { now: () => now };
    const given: GivenUpJob[] = [];
    const onGiveUp = async (j: GivenUpJob) => void given.push(j);
    const dead = await openPgBossQueue(await ctx.openAnother(), { ...base('dead'), clock, concurrency: 1, onGiveUp });
    const lost = await dead.enqueue(lostKind, { deployId: 'dep_lost' }, { maxAttempts: 1 });
    let wake!: () => void;
    const frozen = new Promise<void>((r) => {
      wake = r;
    });
    await new Promise<void>((r) =>
      dead.work([lostKind], () => {
        r();
        return frozen;
      }),
    );
    const alive = await openPgBossQueue(await ctx.openAnother(), { ...base('alive'), clock, concurrency: 1, onGiveUp });
    now += 30_001;
    expect(await alive.reap()).toBe(1);
    expect(given).toEqual([
      { id: lost, kind: lostKind, payload: { deployId: 'dep_lost' }, reason: 'the worker stopped renewing its lease' },
    ]);
    wake();
    await dead.stop();
    const failed = await alive.enqueue(failKind, { deployId: 'dep_fail' }, { maxAttempts: 2 });
    const attempts: number[] = [];
    alive.work([failKind], async (job) => {
      attempts.push(job.attempt);
      throw new Error('boom');
    });
    for (let i = 0; i < 1000 && given.length < 2; i++) await realSleep(5);
    await alive.stop();
    expect(attempts).toEqual([1, 2]);
    expect(given.slice(1)).toEqual([{ id: failed, kind: failKind, payload: { deployId: 'dep_fail' }, reason: 'boom' }]);
  });

  it('a job stopped by its worker’s shutdown goes back as it was, and the next worker runs it as the same attempt', async () => {
    const kind = `stop${randomBytes(4).toString('hex')}`;
    const first = await openPgBossQueue(await ctx.openAnother(), { ...base('first'), concurrency: 1 });
    await first.enqueue(kind, { deployId: 'dep_s' });
    const running = new Promise<void>((r) =>
      first.work([kind], async (job) => {
        r();
        await new Promise<void>((stop) => job.signal.addEventListener('abort', () => stop(), { once: true }));
        throw job.signal.reason;
      }),
    );
    await running;
    await first.stop({ timeoutMs: 10 });
    const next = await openPgBossQueue(await ctx.openAnother(), { ...base('next'), concurrency: 1 });
    const attempt = await new Promise<number>((resolve) => next.work([kind], async (job) => resolve(job.attempt)));
    await next.stop();
    expect(attempt).toBe(1);
  });

  it('several queues opening on one fresh database install pg-boss once, without error', async () => {
    const location = await ctx.freshLocation();
    const { openStore } = await import('../store/open.js');
    const { migrate } = await import('../store/migrate.js');
    const stores = await Promise.all([1, 2, 3, 4].map(() => openStore(location)));
    try {
      await migrate(stores[0]!);
      const queues = await Promise.all(stores.map((s, i) => openPgBossQueue(s, base(`q${i}`))));
      const k = `k${randomBytes(4).toString('hex')}`;
      const ids = await Promise.all(queues.map((q) => q.enqueue(k, {})));
      expect(new Set(ids).size).toBe(4);
      await Promise.all(queues.map((q) => q.stop()));
    } finally {
      await sql.raw(`drop schema if exists ${bossSchemaOf(stores[0]!)} cascade`).execute(stores[0]!.db);
      for (const s of stores) await s.close();
    }
  });
});
