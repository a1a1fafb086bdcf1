import type { JobHandler, JobQueue } from '../queue/types.js';
import { checkKey, type MonitorDeps } from './monitor.js';

export const MONITOR_JOB = 'monitor-check';
/** One key's check: its own job, so a sweep of many slow keys never outlives a job's lease. */
export const MONITOR_KEY_JOB = 'monitor-key';
export interface MonitorKeyPayload {
  teamId: string;
  keyRef: string;
}
/** How often every key is checked (issue "Never surprised"): expiry windows are days, so hourly is plenty. */
export const MONITOR_EVERY_MS = 3_600_000;

/** Enqueues the next sweep at `runAt` unless one is already waiting: restarts and reruns never double it. */
export async function scheduleMonitor(queue: Pick<JobQueue, 'enqueue'>, runAt: number): Promise<void> {
  await queue.enqueue(MONITOR_JOB, {}, { runAt, maxAttempts: 1, unlessWaiting: true });
}

/**
 * One sweep: a `monitor-key` job per key of every team (a key whose last check still waits in the queue is
 * not queued twice), then the next sweep `everyMs` later (MONITOR_EVERY_MS, hourly, by default). The sweep
 * itself only reads the keys table, so it ends in milliseconds however many keys there are; each key's
 * check (a dozen requests to Apple) runs in its own job, under its own lease.
 */
export function monitorJobHandler(
  m: MonitorDeps,
  queue: Pick<JobQueue, 'enqueue' | 'livePayloads'>,
  everyMs: number,
): JobHandler {
  return async () => {
    try {
      const keys = await m.store.db.selectFrom('keys').select(['id', 'team_id']).orderBy('id').execute();
      const waiting = (await queue.livePayloads(MONITOR_KEY_JOB)) as MonitorKeyPayload[];
      const busy = new Set(waiting.map((p) => p.keyRef));
      for (const k of keys) {
        if (busy.has(k.id)) continue;
        const payload: MonitorKeyPayload = { teamId: k.team_id, keyRef: k.id };
        await queue.enqueue(MONITOR_KEY_JOB, payload, { maxAttempts: 1 });
      }
    } finally {
      if (everyMs > 0) await scheduleMonitor(queue, m.deps.clock.now() + everyMs);
    }
  };
}

/**
 * One key's check. A key Apple refuses is not an error here (the check records it as a KEY_REJECTED or
 * AGREEMENT_MISSING alert); any other failure (network, a key removed meanwhile) is reported to `onError`
 * and waits for the next sweep rather than being retried at once against Apple.
 */
export function monitorKeyJobHandler(m: MonitorDeps, onError: (keyRef: string, err: unknown) => void): JobHandler {
  return async (job) => {
    const { teamId, keyRef } = job.payload as MonitorKeyPayload;
    try {
      await checkKey(m, teamId, keyRef);
    } catch (err) {
      onError(keyRef, err);
    }
  };
}
