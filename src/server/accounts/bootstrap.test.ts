import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import type { StoreDeps } from '../store/ids.js';
import { describeStores } from '../store/testing/dialects.js';
import { verifyApiToken } from './api-tokens.js';
import { ensureFirstAdmin } from './bootstrap.js';
import { consumeSignInLink } from './sign-in-links.js';
import { roleIn } from './teams.js';

const deps: StoreDeps = { clock: new FakeClock(), randomBytes: (n) => randomBytes(n) };

describeStores('first admin', (ctx) => {
  it('creates a team and its owner once; every start gives a fresh single-use link', async () => {
    const s = ctx.store();
    const first = await ensureFirstAdmin(s, deps, { apiToken: true });
    expect(first.created).toBe(true);
    expect(await roleIn(s, first.team.id, first.user.id)).toBe('owner');
    expect(await consumeSignInLink(s, deps, first.signInToken)).toBe(first.user.id);
    await expect(consumeSignInLink(s, deps, first.signInToken)).rejects.toMatchObject({ code: 'SIGN_IN_LINK_INVALID' });
    expect(await verifyApiToken(s, deps, first.apiToken!)).toMatchObject({ teamId: first.team.id, role: 'owner' });

    const second = await ensureFirstAdmin(s, deps);
    expect(second).toMatchObject({ created: false, team: { id: first.team.id }, user: { id: first.user.id } });
    expect(second.apiToken).toBeUndefined();
    expect(second.signInToken).not.toBe(first.signInToken);
    expect(await consumeSignInLink(s, deps, second.signInToken)).toBe(first.user.id);
  });
});
