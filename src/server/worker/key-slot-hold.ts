import type { Sleep } from '../../core/clock.js';
import type { StoreDeps } from '../store/ids.js';
import { deploysPerKey, releaseKeySlot, renewKeySlot, takeKeySlot } from '../store/key-slots.js';
import type { Store } from '../store/open.js';
import { getSettings } from '../store/settings.js';

export interface KeySlotPolicy {
  /** How long a slot holds without renewal: a killed worker's slot frees itself after this. */
  leaseMs: number;
  /** When a deploy finds no free slot, it is queued again this much later (not polled for in a loop). */
  retryAfterMs: number;
  requeue(payload: { teamId: string; deployId: string }, runAt: number): Promise<void>;
}

/**
 * Takes one of the key's slots for the deploy and keeps it renewed until `release()`; undefined when the
 * key runs as many deploys as the team allows (`deploysPerKey`, default 2), across all workers.
 */
export async function holdKeySlot(
  env: { store: Store; deps: StoreDeps; sleep: Sleep },
  policy: KeySlotPolicy,
  teamId: string,
  keyRef: string,
  deployId: string,
): Promise<{ release(): Promise<void> } | undefined> {
  const limit = deploysPerKey(await getSettings(env.store, teamId));
  const slot = { keyRef, holder: deployId, limit, leaseMs: policy.leaseMs };
  if (!(await takeKeySlot(env.store, env.deps, slot))) return undefined;
  const done = new AbortController();
  const renewing = (async () => {
    while (!done.signal.aborted) {
      await env.sleep(Math.max(1, Math.floor(policy.leaseMs / 3)), done.signal).catch(() => {});
      if (done.signal.aborted) return;
      await renewKeySlot(env.store, env.deps, keyRef, deployId, policy.leaseMs).catch(() => false);
    }
  })();
  return {
    async release() {
      done.abort();
      await renewing;
      await releaseKeySlot(env.store, keyRef, deployId).catch(() => {});
    },
  };
}
