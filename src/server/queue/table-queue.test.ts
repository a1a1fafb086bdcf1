import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { realSleep, systemClock } from '../../core/clock.js';
import type { StoreDeps } from '../store/ids.js';
import { claimJob, getJob } from '../store/jobs.js';
import type { Store } from '../store/open.js';
import { describeStores } from '../store/testing/dialects.js';
import { defineJobQueueContract } from './job-queue.contract.js';
import { TableJobQueue } from './table-queue.js';

const deps: StoreDeps = { clock: systemClock, randomBytes: (n) => randomBytes(n) };

describeStores('table job queue', (ctx) => {
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores.splice(0)) await s.close();
  });
  defineJobQueueContract(`jobs table (${ctx.dialect})`, {
    create: async (worker) => {
      // On PostgreSQL each worker gets its own pool, as separate processes would.
      const store = ctx.dialect === 'postgres' ? await ctx.openAnother() : ctx.store();
      if (store !== ctx.store()) stores.push(store);
      return new TableJobQueue(store, deps, { worker, concurrency: 3, leaseMs: 30_000, pollMs: 5, sleep: realSleep });
    },
  });
});

describeStores('table job queue: leases', (ctx) => {
  it('a job held by a dead worker is taken over once its lease lapses', async () => {
    const kind = `dead${randomBytes(4).toString('hex')}`;
    const q = new TableJobQueue(ctx.store(), deps, {
      worker: 'alive',
      concurrency: 1,
      leaseMs: 30_000,
      pollMs: 5,
      sleep: realSleep,
    });
    const id = await q.enqueue(kind, {});
    // A worker that claimed it for 50 ms and died.
    await claimJob(ctx.store(), deps, { worker: 'dead', leaseMs: 50, kinds: [kind] });
    const attempt = await new Promise<number>((resolve) => q.work([kind], async (job) => resolve(job.attempt)));
    await q.stop();
    expect(attempt).toBe(2);
    expect(await getJob(ctx.store(), id)).toMatchObject({ state: 'succeeded', worker: 'alive' });
  });

  it('a handler whose job was taken away is told through its signal, and cannot complete it', async () => {
    const kind = `lost${randomBytes(4).toString('hex')}`;
    const q = new TableJobQueue(ctx.store(), deps, {
      worker: 'w1',
      concurrency: 1,
      leaseMs: 60,
      pollMs: 5,
      sleep: realSleep,
    });
    const id = await q.enqueue(kind, {});
    const reason = await new Promise<string>((resolve) =>
      q.work([kind], async (job) => {
        // Another worker takes the job (as if our lease had lapsed during a long pause).
        await ctx.store().db.updateTable('jobs').set({ worker: 'w2' }).where('id', '=', job.id).execute();
        await new Promise<void>((r) => job.signal.addEventListener('abort', () => r(), { once: true }));
        resolve(String((job.signal.reason as Error).message));
      }),
    );
    await q.stop();
    expect(reason).toMatch(/another worker/);
    expect(await getJob(ctx.store(), id)).toMatchObject({ state: 'running', worker: 'w2' });
  });
});
