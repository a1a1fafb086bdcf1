import type { Store } from '../store.js';

/**
 * TestFlight builds expire 90 days after upload: `expired` turns true once the simulator's clock reaches the
 * build's `expirationDate` (set at upload). Returns whether a build changed.
 */
export function expireBuilds(store: Store, nowMs: number): boolean {
  let changed = false;
  for (const b of store.list('builds')) {
    if (b.attributes.expired === true) continue;
    const at = Date.parse(String(b.attributes.expirationDate));
    if (Number.isFinite(at) && at <= nowMs) {
      b.attributes.expired = true;
      changed = true;
    }
  }
  return changed;
}
