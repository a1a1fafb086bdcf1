import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { ensureFirstAdmin } from '../accounts/bootstrap.js';
import { cancelRequested, clearCancel, requestCancel } from './cancels.js';
import { createDeploy, updateDeploy } from './deploys.js';
import type { StoreDeps } from './ids.js';
import { describeStores } from './testing/dialects.js';

describeStores('deploy cancel requests', (ctx) => {
  const deps: StoreDeps = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };

  it('flags a running deploy once, never a queued one or another team’s, and the flag clears', async () => {
    const store = ctx.store();
    const team = (await ensureFirstAdmin(store, deps)).team.id;
    const queued = await createDeploy(store, deps, team, { options: {} });
    expect(await requestCancel(store, deps, team, queued.id)).toBe(false);
    expect(await cancelRequested(store, queued.id)).toBe(false);
    const running = await createDeploy(store, deps, team, { options: {} });
    await updateDeploy(store, deps, team, running.id, { state: 'running' }, ['queued']);
    expect(await requestCancel(store, deps, 'team_other', running.id)).toBe(false);
    expect(await cancelRequested(store, running.id)).toBe(false);
    expect(await requestCancel(store, deps, team, running.id)).toBe(true);
    expect(await requestCancel(store, deps, team, running.id)).toBe(true); // twice is still one flag
    expect(await cancelRequested(store, running.id)).toBe(true);
    await clearCancel(store, running.id);
    expect(await cancelRequested(store, running.id)).toBe(false);
  });
});
