import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { realSleep, systemClock } from '../../core/clock.js';
import type { StoreDeps } from '../store/ids.js';
import { claimJob, getJob } from '../store/jobs.js';
import type { Store } from '../store/open.js';
import { describeStores } from '../store/testing/dialects.js';
import { withFailingUpdates } from '../store/testing/failing-store.js';
import { defineJobQueueContract } from './job-queue.contract.js';
import { TableJobQueue } from './table-queue.js';
import type { GivenUpJob } from './types.js';

const deps: StoreDeps = { clock: systemClock, randomBytes: (n) => randomBytes(n) };

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

  it('a handler whose lease renewals fail is told once the lease has run out since the last renewal', async () => {
    const kind = `cut${randomBytes(4).toString('hex')}`;
    const time = steppedTime();
    let failing = false;
    const leaseMs = 300;
    const q = new TableJobQueue(
      withFailingUpdates(ctx.store(), () => failing),
      { ...deps, clock: time.clock },
      { worker: 'w1', concurrency: 1, leaseMs, pollMs: 5, sleep: time.sleep },
    );
    await q.enqueue(kind, {});
    const seen = await new Promise<{ aborted: boolean; reason: string; after: number }>((resolve) =>
      q.work([kind], async (job) => {
        const start = time.clock.now();
        failing = true;
        // Bounded: without the fix the heartbeat swallows the errors and the signal never fires.
        while (!job.signal.aborted && time.clock.now() < start + 10 * leaseMs) await realSleep(1);
        failing = false;
        resolve({
          aborted: job.signal.aborted,
          reason: String((job.signal.reason as Error | undefined)?.message),
          after: time.clock.now() - start,
        });
      }),
    );
    await q.stop();
    expect(seen.aborted).toBe(true);
    expect(seen.reason).toMatch(/renewals failed/);
    expect(seen.after).toBeGreaterThanOrEqual(leaseMs);
  });

  it('the queue reports each job it gives up on (last attempt lost or failed), never one it retries', async () => {
    const lostKind = `gone${randomBytes(4).toString('hex')}`;
    const failKind = `fail${randomBytes(4).toString('hex')}`;
    const given: GivenUpJob[] = [];
    const q = new TableJobQueue(ctx.store(), deps, {
      worker: 'alive',
      concurrency: 1,
      leaseMs: 60,
      pollMs: 5,
      sleep: realSleep,
      onGiveUp: async (j) => void given.push(j),
    });
    const lost = await q.enqueue(lostKind, { deployId: 'dep_lost' }, { maxAttempts: 1 });
    // Its only attempt's worker died: nobody may claim it again, so only the sweep can end it.
    await claimJob(ctx.store(), deps, { worker: 'dead', leaseMs: 20, kinds: [lostKind] });
    const failed = await q.enqueue(failKind, { deployId: 'dep_fail' }, { maxAttempts: 2 });
    q.work([lostKind, failKind], async () => {
      throw new Error('boom');
    });
    const ours = () => given.filter((j) => j.kind === lostKind || j.kind === failKind);
    for (let i = 0; i < 1000 && ours().length < 2; i++) await realSleep(5);
    await q.stop();
    expect(ours().sort((a, b) => a.kind.localeCompare(b.kind))).toEqual([
      { id: failed, kind: failKind, payload: { deployId: 'dep_fail' }, reason: 'boom' },
      { id: lost, kind: lostKind, payload: { deployId: 'dep_lost' }, reason: 'the worker stopped renewing its lease' },
    ]);
    expect(await getJob(ctx.store(), lost)).toMatchObject({ state: 'failed', attempts: 1 });
    expect(await getJob(ctx.store(), failed)).toMatchObject({ state: 'failed', attempts: 2 });
  });
});
