import type { Sleep } from '../../core/clock.js';
import { AscendError } from '../../core/errors.js';
import type { StoreDeps } from '../store/ids.js';
import { deploysPerKey, releaseKeySlot, renewKeySlot, takeKeySlot } from '../store/key-slots.js';
import type { Store } from '../store/open.js';
import { getSettings } from '../store/settings.js';

export interface KeySlotPolicy {
  /** How long a slot holds without renewal: a killed worker's slot frees itself after this. */
  leaseMs: number;
  /** When a deploy finds no free slot, it is queued again this much later (not polled for in a loop). */
  retryAfterMs: number;
  requeue(payload: { teamId: string; deployId: string; run?: number }, runAt: number): Promise<void>;
}

/** A held slot: `lost` fires once the slot can no longer be counted on, and the run must stop. */
export interface HeldKeySlot {
  lost: AbortSignal;
  release(): Promise<void>;
}

/**
 * Takes one of the key's slots for `holder` (the job's run: job id and attempt, so a lost run's release
 * never frees the slot of the run that resumed it) and keeps it renewed until `release()`; undefined when
 * the key runs as many deploys as the team allows (`deploysPerKey`, default 2), across all workers. A
 * renewal refused (the slot lapsed and was taken), or failing until the lease has passed, fires `lost`.
 */
export async function holdKeySlot(
  env: { store: Store; deps: StoreDeps; sleep: Sleep },
  policy: KeySlotPolicy,
  teamId: string,
  keyRef: string,
  holder: string,
): Promise<HeldKeySlot | undefined> {
  const { clock } = env.deps;
  const limit = deploysPerKey(await getSettings(env.store, teamId));
  const slot = { keyRef, holder, limit, leaseMs: policy.leaseMs };
  let renewed = clock.now();
  if (!(await takeKeySlot(env.store, env.deps, slot))) return undefined;
  const done = new AbortController();
  const lost = new AbortController();
  const renewing = (async () => {
    while (!done.signal.aborted && !lost.signal.aborted) {
      await env.sleep(Math.max(1, Math.floor(policy.leaseMs / 3)), done.signal).catch(() => {});
      if (done.signal.aborted) return;
      const at = clock.now();
      const held = await renewKeySlot(env.store, env.deps, keyRef, holder, policy.leaseMs).catch(() => undefined);
      if (held) renewed = at;
      // An error is not a renewal: once the lease has passed without one, another run may hold the slot.
      if (held === false || (held === undefined && clock.now() >= renewed + policy.leaseMs))
        lost.abort(new AscendError('JOB_NOT_LEASED', 'the deploy lost its key slot (its renewals failed)'));
    }
  })();
  return {
    lost: lost.signal,
    async release() {
      done.abort();
      await renewing;
      await releaseKeySlot(env.store, keyRef, holder).catch(() => {});
    },
  };
}
