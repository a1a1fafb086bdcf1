import type { Clock, Sleep } from '../../core/clock.js';
import type { StoreDeps } from '../store/ids.js';
import type { Store } from '../store/open.js';
import { openPgBossQueue } from './pg-boss-queue.js';
import { TableJobQueue } from './table-queue.js';
import type { GiveUpHook, JobQueue } from './types.js';

export interface OpenJobQueueOptions {
  /** This queue's name in leases (host:pid:role:tag); unique per queue instance, since leases are matched by it. */
  worker: string;
  /** Jobs this process runs at once; 0 still gives a queue to enqueue on. */
  concurrency: number;
  /** Idle wait between claims (default 500 ms). */
  pollMs?: number;
  /** How long a claim holds without a renewal (default 30 s on pg-boss, 60 s on the jobs table): a killed worker's job moves on after it. */
  leaseMs?: number;
  /** Base delay before a retry, doubled per attempt (default 1 s; 0 retries at once). */
  retryBaseMs?: number;
  sleep: Sleep;
  clock?: Clock;
  /** Told of each job the queue gives up on (its last attempt failed or was lost). */
  onGiveUp?: GiveUpHook;
}

/**
 * The queue for this database (DESIGN §2 queue/): pg-boss on PostgreSQL, the jobs table on SQLite. The store
 * must be migrated (migration 006 holds pg-boss's lease table); pg-boss installs its own schema here.
 */
export async function openJobQueue(store: Store, deps: StoreDeps, o: OpenJobQueueOptions): Promise<JobQueue> {
  const base = o.retryBaseMs ?? 1000;
  const concurrency = Math.max(o.concurrency, 1);
  if (store.dialect === 'postgres') {
    return openPgBossQueue(store, {
      worker: o.worker,
      concurrency,
      leaseMs: o.leaseMs ?? 30_000,
      pollMs: o.pollMs ?? 500,
      clock: o.clock ?? deps.clock,
      sleep: o.sleep,
      retryDelaySeconds: Math.ceil(base / 1000),
      ...(o.onGiveUp ? { onGiveUp: o.onGiveUp } : {}),
    });
  }
  return new TableJobQueue(store, deps, {
    worker: o.worker,
    concurrency,
    leaseMs: o.leaseMs ?? 60_000,
    pollMs: o.pollMs ?? 500,
    sleep: o.sleep,
    retryDelayMs: (n) => (base === 0 ? 0 : Math.min(60_000, base * 2 ** n)),
    ...(o.onGiveUp ? { onGiveUp: o.onGiveUp } : {}),
  });
}
