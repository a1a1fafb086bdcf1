import type { Sleep } from '../../core/clock.js';

/**
 * A queue's stop, the same for both queues: stop taking jobs, wait for the running ones, and after `timeoutMs`
 * tell their handlers to stop (pg-boss's failWip habit), so their jobs are released now, not after the lease.
 */
export async function stopLoops(o: {
  stopping: AbortController;
  loops: readonly Promise<void>[];
  inFlight: Iterable<AbortController>;
  sleep: Sleep;
  timeoutMs: number | undefined;
}): Promise<void> {
  o.stopping.abort(new Error('queue stopping'));
  const all = Promise.all(o.loops);
  if (o.timeoutMs !== undefined) {
    const timer = new AbortController();
    const timedOut = o.sleep(o.timeoutMs, timer.signal).then(
      () => true,
      () => false,
    );
    const late = await Promise.race([all.then(() => false), timedOut]);
    timer.abort();
    if (late) for (const c of o.inFlight) c.abort(new Error('worker shutting down'));
  }
  await all;
}
