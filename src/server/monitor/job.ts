import type { JobHandler, JobQueue } from '../queue/types.js';
import type { Store } from '../store/open.js';
import { checkKey, type MonitorDeps } from './monitor.js';

export const MONITOR_JOB = 'monitor-check';
/** How often every key is checked (issue "Never surprised"): expiry windows are days, so hourly is plenty. */
export const MONITOR_EVERY_MS = 3_600_000;

/** Enqueues the next sweep at `runAt` unless one is already waiting: restarts and reruns never double it. */
export async function scheduleMonitor(store: Store, queue: Pick<JobQueue, 'enqueue'>, runAt: number): Promise<void> {
  const waiting = await store.db
    .selectFrom('jobs')
    .select('id')
    .where('kind', '=', MONITOR_JOB)
    .where('state', '=', 'queued')
    .executeTakeFirst();
  // The jobs table answers for the embedded queue; pg-boss keeps its jobs elsewhere and checks itself.
  if (!waiting) await queue.enqueue(MONITOR_JOB, {}, { runAt, maxAttempts: 1, unlessWaiting: true });
}

/**
 * One sweep: every key of every team, each check on its own so one key Apple refuses (or a network error)
 * does not hide the others' findings; then the next sweep `everyMs` later (MONITOR_EVERY_MS, hourly, by default). A refused key is not an error
 * here: the check records it as a KEY_REJECTED or AGREEMENT_MISSING alert.
 */
export function monitorJobHandler(
  m: MonitorDeps,
  queue: Pick<JobQueue, 'enqueue'>,
  everyMs: number,
  onError: (keyRef: string, err: unknown) => void,
): JobHandler {
  return async (job) => {
    try {
      const keys = await m.store.db.selectFrom('keys').select(['id', 'team_id']).orderBy('id').execute();
      for (const k of keys) {
        if (job.signal.aborted) break;
        try {
          await checkKey(m, k.team_id, k.id);
        } catch (err) {
          onError(k.id, err);
        }
      }
    } finally {
      if (everyMs > 0) await scheduleMonitor(m.store, queue, m.deps.clock.now() + everyMs);
    }
  };
}
