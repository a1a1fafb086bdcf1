import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import type { StoreDeps } from './ids.js';
import { claimJob, completeJob, enqueueJob, extendLease, failJob, getJob } from './jobs.js';
import { describeStores } from './testing/dialects.js';

function deps(clock = new FakeClock()): StoreDeps & { clock: FakeClock } {
  return { clock, randomBytes: (n) => randomBytes(n) };
}

describeStores('jobs table', (ctx) => {
  it('claims due jobs oldest first, by kind, and not before run_at', async () => {
    const d = deps();
    const s = ctx.store();
    const kind = `k${randomBytes(4).toString('hex')}`;
    const later = await enqueueJob(s, d, { kind, payload: { n: 'later' }, runAt: d.clock.now() + 60_000 });
    const first = await enqueueJob(s, d, { kind, payload: { n: 1 } });
    d.clock.advance(1);
    await enqueueJob(s, d, { kind: `${kind}-other`, payload: {} });
    const c1 = await claimJob(s, d, { worker: 'w1', leaseMs: 30_000, kinds: [kind] });
    expect(c1).toMatchObject({ id: first.id, state: 'running', worker: 'w1', attempts: 1, payload: { n: 1 } });
    expect(await claimJob(s, d, { worker: 'w1', leaseMs: 30_000, kinds: [kind] })).toBeUndefined();
    d.clock.advance(60_000);
    // w1's lease on the first job has lapsed too, so it is runnable again; the queued one is older by run_at.
    const ids = [
      (await claimJob(s, d, { worker: 'w2', leaseMs: 120_000, kinds: [kind] }))?.id,
      (await claimJob(s, d, { worker: 'w2', leaseMs: 120_000, kinds: [kind] }))?.id,
    ];
    expect(ids.sort()).toEqual([first.id, later.id].sort());
  });

  it('many workers on many connections claim 30 jobs: each exactly once', async () => {
    const d = deps();
    const s = ctx.store();
    const kind = `burst${randomBytes(4).toString('hex')}`;
    const jobs = await Promise.all(Array.from({ length: 30 }, (_, i) => enqueueJob(s, d, { kind, payload: { i } })));
    const second = await ctx.openAnother();
    try {
      const claimed: string[] = [];
      const worker = async (w: number) => {
        const store = w % 2 === 0 ? s : second;
        for (;;) {
          const job = await claimJob(store, d, { worker: `w${w}`, leaseMs: 600_000, kinds: [kind] });
          if (!job) return;
          claimed.push(job.id);
          expect(await completeJob(store, d, job.id, `w${w}`)).toBe(true);
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
      expect(claimed.sort()).toEqual(jobs.map((j) => j.id).sort());
    } finally {
      await second.close();
    }
  });

  it('a lapsed lease passes the job to another worker; the first worker can no longer finish it', async () => {
    const d = deps();
    const s = ctx.store();
    const kind = `lease${randomBytes(4).toString('hex')}`;
    const job = await enqueueJob(s, d, { kind, payload: {} });
    await claimJob(s, d, { worker: 'dead', leaseMs: 10_000, kinds: [kind] });
    d.clock.advance(5_000);
    expect(await extendLease(s, d, job.id, 'dead', 10_000)).toBe(true);
    d.clock.advance(10_001);
    const again = await claimJob(s, d, { worker: 'alive', leaseMs: 10_000, kinds: [kind] });
    expect(again).toMatchObject({ id: job.id, worker: 'alive', attempts: 2 });
    expect(await completeJob(s, d, job.id, 'dead')).toBe(false);
    expect(await extendLease(s, d, job.id, 'dead', 10_000)).toBe(false);
    expect(await completeJob(s, d, job.id, 'alive')).toBe(true);
    expect((await getJob(s, job.id))?.state).toBe('succeeded');
  });

  it('a failure retries after the delay while attempts remain, then stays failed', async () => {
    const d = deps();
    const s = ctx.store();
    const kind = `fail${randomBytes(4).toString('hex')}`;
    const job = await enqueueJob(s, d, { kind, payload: {}, maxAttempts: 2 });
    await claimJob(s, d, { worker: 'w', leaseMs: 1000, kinds: [kind] });
    expect(await failJob(s, d, job.id, 'w', 'boom 1', 5_000)).toBe('queued');
    expect(await claimJob(s, d, { worker: 'w', leaseMs: 1000, kinds: [kind] })).toBeUndefined();
    d.clock.advance(5_000);
    expect(await claimJob(s, d, { worker: 'w', leaseMs: 1000, kinds: [kind] })).toMatchObject({ attempts: 2 });
    expect(await failJob(s, d, job.id, 'w', 'boom 2', 5_000)).toBe('failed');
    d.clock.advance(60_000);
    expect(await claimJob(s, d, { worker: 'w', leaseMs: 1000, kinds: [kind] })).toBeUndefined();
    expect(await getJob(s, job.id)).toMatchObject({ state: 'failed', lastError: 'boom 2', attempts: 2 });
  });
});
