import { advanceUploads } from './processing.js';
import type { ServerDeps } from './server-deps.js';
import type { Store } from './store.js';
import { advanceReviews } from './testflight-writes.js';

/**
 * A build expires 90 days after upload by the simulator's clock, or when a PATCH expired it; `expired` is
 * derived from both, so moving the clock back un-expires only what time expired.
 */
export function advanceExpiry(store: Store, now: number): boolean {
  let changed = false;
  for (const b of store.list('builds')) {
    const byTime = Date.parse(String(b.attributes.expirationDate)) <= now;
    const expired = b.internal?.expiredByPatch === true || byTime;
    if (b.attributes.expired === expired) continue;
    b.attributes.expired = expired;
    changed = true;
  }
  return changed;
}

/** Applies every transition whose time has come on the simulator's clock; true when anything changed. */
export function advanceAll(deps: Pick<ServerDeps, 'store' | 'simClock' | 'uploads'>): boolean {
  const moved = advanceUploads(deps.store, deps.simClock, deps.uploads);
  const reviewed = advanceReviews(deps.store, deps.simClock);
  const expired = advanceExpiry(deps.store, deps.simClock.now());
  return moved || reviewed || expired;
}
