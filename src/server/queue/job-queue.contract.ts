import { afterEach, describe, expect, it } from 'vitest';
import type { JobContext, JobQueue } from './types.js';

/** Two independent queues on one backing store, as two workers would be. */
export interface QueueHarness {
  create(worker: string): Promise<JobQueue> | JobQueue;
}

/** One behaviour every JobQueue keeps (n8n's job-queue.contract.ts habit), registered per implementation. */
export function defineJobQueueContract(name: string, harness: QueueHarness): void {
  describe(`JobQueue contract: ${name}`, () => {
    const started: JobQueue[] = [];
    afterEach(async () => {
      await Promise.all(started.splice(0).map((q) => q.stop({ timeoutMs: 2000 })));
    });
    async function queue(worker: string): Promise<JobQueue> {
      const q = await harness.create(worker);
      started.push(q);
      return q;
    }
    const kind = () => `k${Math.random().toString(36).slice(2, 10)}`;

    it('two workers run 20 jobs, each exactly once', async () => {
      const k = kind();
      const [a, b] = [await queue('a'), await queue('b')];
      const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => a.enqueue(k, { i })));
      const runs: string[] = [];
      let done!: () => void;
      const all = new Promise<void>((r) => {
        done = r;
      });
      const handler = async (job: JobContext) => {
        runs.push(job.id);
        if (runs.length === 20) done();
      };
      a.work([k], handler);
      b.work([k], handler);
      await all;
      await Promise.all([a.stop(), b.stop()]);
      expect([...runs].sort()).toEqual([...ids].sort());
    });

    it('a failed job runs again, with the attempt number', async () => {
      const k = kind();
      const q = await queue('r');
      const attempts: number[] = [];
      let done!: () => void;
      const finished = new Promise<void>((r) => {
        done = r;
      });
      await q.enqueue(k, {}, { maxAttempts: 3 });
      q.work([k], async (job) => {
        attempts.push(job.attempt);
        if (job.attempt < 2) throw new Error('transient');
        done();
      });
      await finished;
      expect(attempts).toEqual([1, 2]);
    });

    it('unlessWaiting adds no second waiting job of a kind; other kinds are apart', async () => {
      const k = kind();
      const q = await queue('u');
      const later = Date.now() + 3_600_000;
      const first = await q.enqueue(k, {}, { runAt: later, unlessWaiting: true });
      expect(await q.enqueue(k, {}, { runAt: later, unlessWaiting: true })).toBe(first);
      const other = kind();
      expect(await q.enqueue(other, {}, { runAt: later, unlessWaiting: true })).not.toBe(first);
    });

    it('stop waits for a running job; with a timeout the job’s signal fires', async () => {
      const k = kind();
      const q = await queue('s');
      await q.enqueue(k, {});
      let release!: () => void;
      const started = new Promise<void>((r) => {
        release = r;
      });
      let aborted = false;
      q.work([k], async (job) => {
        release();
        await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted = job.signal.aborted;
      });
      await started;
      expect(q.running).toBe(1);
      await q.stop({ timeoutMs: 20 });
      expect(aborted).toBe(true);
      expect(q.running).toBe(0);
    });
  });
}
